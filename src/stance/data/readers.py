"""Read labelled tables (CSV, TSV, JSONL, Parquet, Hugging Face) into records that remember their line.

Readers only parse; data.py validates. Every parse problem is a DataError naming file and line.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError  # noqa: F401  (defined there so the CLI can catch it without importing pandas)
from ..runtime.files import format_of, require_file
from ..runtime.jsonlines import json_lines
from ..runtime.spreadsheet import unescape_cell

LINE = "_line"  # where a record came from, kept for error messages

csv.field_size_limit(2**31 - 1)


def detect_format(path: str | os.PathLike, fmt: str = "auto") -> str:
    found = format_of(path, fmt)
    if found is None:
        raise DataError(f"{path}: cannot tell the format from the suffix {Path(path).suffix.lower()!r}; "
                        f"set format: csv|tsv|jsonl|parquet")
    return found


def _decode(path: Path, raw: bytes, encoding: str) -> str:
    if encoding.replace("-", "").lower() in ("utf8", "utf8sig"):
        encoding = "utf-8-sig"  # a byte-order mark is not part of the first column name
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise DataError(
            f"{path} line {line}, byte {col}: not valid {encoding} ({raw[e.start:e.start + 1]!r}); "
            f"set data.encoding (e.g. cp1252 for the SemEval files)"
        ) from None
    except LookupError:
        raise DataError(f"{path}: unknown encoding {encoding!r}") from None


def _read_delimited(path: Path, text: str, delimiter: str) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[dict[str, Any]] = []
    header: list[str] | None = None
    start = 1
    try:
        for row in reader:
            line = start
            start = reader.line_num + 1  # a quoted field may span lines: the record starts at `line`
            if not row or all(not c.strip() for c in row):
                continue  # blank line: not a record
            if header is None:
                header = [h.strip() for h in row]
                if len(set(header)) != len(header):
                    dup = sorted({h for h in header if header.count(h) > 1})
                    raise DataError(f"{path} line {line}: duplicate column names {dup}")
                continue
            if len(row) != len(header):
                raise DataError(
                    f"{path} line {line}: {len(row)} fields, the header has {len(header)} "
                    f"(a stray {delimiter!r} or an unclosed quote?)"
                )
            rec: dict[str, Any] = dict(zip(header, map(unescape_cell, row)))
            rec[LINE] = line
            records.append(rec)
    except csv.Error as e:
        raise DataError(f"{path} line {reader.line_num}: malformed {'TSV' if delimiter == chr(9) else 'CSV'}: {e}") from None
    if header is None:
        raise DataError(f"{path}: the file is empty (no header row)")
    if len(header) == 1:
        for other in (",", "\t", ";", "|"):
            if other != delimiter and other in header[0]:
                raise DataError(f"{path} line 1: one column {header[0]!r} found; the delimiter looks like {other!r}, "
                                f"not {delimiter!r} (set data.format)")
    return records


def _read_jsonl(path: Path, text: str) -> list[dict[str, Any]]:
    records = []
    for n, obj, error in json_lines(io.StringIO(text, newline=None)):
        if error is not None:
            raise DataError(f"{path} line {n}: invalid JSON ({error.msg} at column {error.colno})")
        if not isinstance(obj, dict):
            raise DataError(f"{path} line {n}: expected a JSON object, got {type(obj).__name__}")
        obj[LINE] = n
        records.append(obj)
    if not records:
        raise DataError(f"{path}: the file is empty (no JSON lines)")
    return records


def read_records(path: str | os.PathLike, fmt: str = "auto", encoding: str = "utf-8") -> list[dict[str, Any]]:
    """Parse a file into dicts, each with its 1-based line (row for Parquet) under LINE."""
    p = require_file(path, "data file", DataError)
    fmt = detect_format(p, fmt)
    if fmt == "parquet":
        try:
            df = pd.read_parquet(p)
        except Exception as e:  # pyarrow raises several unrelated types
            raise DataError(f"{p}: not a readable Parquet file ({e})") from None
        records = df.to_dict("records")
        for i, r in enumerate(records, 1):
            r[LINE] = i
        if not records:
            raise DataError(f"{p}: the file is empty (no rows)")
        return records
    text = _decode(p, p.read_bytes(), encoding)
    if fmt == "jsonl":
        return _read_jsonl(p, text)
    return _read_delimited(p, text, "\t" if fmt == "tsv" else ",")


def read_hf_dataset(name: str) -> dict[str, list[dict[str, Any]]]:
    """A Hugging Face dataset by name -> {split: records}; fails fast and clearly offline."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        raise DataError(f"Hugging Face dataset {name!r} cannot be downloaded: HF_HUB_OFFLINE is set. "
                        f"Download it on a connected machine and point data.path at the exported file.")
    import datasets

    try:
        dd = datasets.load_dataset(name)
    except Exception as e:
        raise DataError(f"could not load Hugging Face dataset {name!r}: {type(e).__name__}: {e}") from None
    out = {}
    for split, ds in dd.items():
        rows = ds.to_list()
        for i, r in enumerate(rows, 1):
            r[LINE] = i
        out[split] = rows
    return out
