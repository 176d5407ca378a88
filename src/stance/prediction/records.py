"""Statements to label from JSONL/CSV/Parquet files, stdin or the command line, scored in chunks so memory stays flat
(`score_stream` yields each result for a writer of output.py).

A line that cannot be read (bad JSON, no text field) is reported with its line (Parquet: row) number and
the rest of the file is still scored; nothing is dropped silently.
"""
from __future__ import annotations

import contextlib
import csv
import itertools
import sys
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Literal

from ..errors import DataError
from ..models.base import StanceModel
from ..runtime.files import format_of, require_file
from ..runtime.jsonlines import json_lines
from ..runtime.spreadsheet import unescape_cell
from .scoring import MAX_MODEL_CHARS, Prediction, resolve_targets, score

PARQUET_BATCH_ROWS = 1000  # rows decoded at a time: Parquet input is never read whole
STREAM_FORMATS = ("jsonl", "csv", "parquet")  # read and written in chunks


def stream_format(path: str | None) -> str | None:
    """jsonl, csv or parquet by the readers' suffix rules (stdin and stdout: JSON lines); None for anything else."""
    if path in (None, "-"):
        return "jsonl"
    return format_of(path, allowed=STREAM_FORMATS)


@dataclass(frozen=True)
class InputRecord:
    line: int          # 1-based line where the record starts (Parquet: 1-based row); 0 = a command-line argument
    text: object       # the raw value: validated by predict, not here
    error: str | None = None  # the line itself could not be read
    fields: dict | None = None  # the input's other columns, kept beside the prediction (--columns)


def _check_columns(path: str, columns: list[str] | None, names: list[str], field: str) -> list[str]:
    """The input columns to keep, in order: all but the text field, or the named ones, each of which must exist."""
    if columns is None:
        return [n for n in names if n != field]
    if missing := [c for c in columns if c not in names]:
        raise DataError(f"{path}: --columns names {', '.join(map(repr, missing))}, not in the input "
                        f"(columns: {names})")
    return list(columns)


def _pick(obj: dict, keep: list[str] | None, field: str) -> dict:
    """JSON lines have no header: all of a line's fields but the text, or the named ones (absent ones as null)."""
    if keep is None:
        return {k: v for k, v in obj.items() if k != field}
    return {k: obj.get(k) for k in keep}


def _undecodable(text: str) -> str | None:
    """Bytes that were not UTF-8 were read as lone surrogates (errors='surrogateescape'): name the first."""
    for ch in text:
        if "\udc80" <= ch <= "\udcff":
            return f"not valid UTF-8 (byte 0x{ord(ch) - 0xDC00:02x}); re-save the file as UTF-8"
    return None


def _readable(stream: Iterable[str], bad_lines: dict[int, str]) -> Iterator[str]:
    """The stream's lines, with those that were not UTF-8 noted in `bad_lines` and passed on as '{}'."""
    for n, line in enumerate(stream, 1):
        if (bad := _undecodable(line)) is not None:
            bad_lines[n] = bad
            line = "{}"
        yield line


def iter_input_records(path: str, field: str = "text", columns: list[str] | None = None) -> Iterator[InputRecord]:
    """The statements of a file (or stdin) in order, each with the input columns `columns` picks (None: all)."""
    fmt = stream_format(path)
    if fmt == "jsonl":
        yield from _iter_jsonl(path, field, columns)
    elif fmt == "csv":
        yield from _iter_csv(path, field, columns)
    elif fmt == "parquet":
        yield from _iter_parquet(path, field, columns)
    else:
        raise DataError(f"{path}: --input must be .jsonl, .csv, .parquet or - (stdin)")


def _iter_jsonl(path: str, field: str, columns: list[str] | None) -> Iterator[InputRecord]:
    if path != "-":
        require_file(path, "input file", DataError)
    bad_lines: dict[int, str] = {}
    with contextlib.nullcontext(sys.stdin) if path == "-" else open(path, encoding="utf-8",
                                                                      errors="surrogateescape") as stream:
        for n, obj, error in json_lines(_readable(stream, bad_lines)):  # the one JSON-lines rule (runtime)
            if n in bad_lines:
                yield InputRecord(n, None, bad_lines.pop(n))
            elif error is not None:
                yield InputRecord(n, None, f"invalid JSON ({error.msg})")
            elif not isinstance(obj, dict) or field not in obj:
                yield InputRecord(n, None, f"expected a JSON object with a {field!r} field")
            else:
                yield InputRecord(n, obj[field], fields=_pick(obj, columns, field))


def _iter_csv(path: str, field: str, columns: list[str] | None) -> Iterator[InputRecord]:
    require_file(path, "input file", DataError)
    with open(path, encoding="utf-8-sig", newline="", errors="surrogateescape") as f:
        reader = csv.DictReader(f)
        if field not in (reader.fieldnames or []):
            raise DataError(f"{path} line 1: no {field!r} column (columns: {reader.fieldnames})")
        keep = _check_columns(path, columns, list(reader.fieldnames), field)
        start = reader.line_num + 1
        for row in reader:
            if (bad := _undecodable(row.get(field) or "")) is not None:
                yield InputRecord(start, None, bad)
            elif None in row:
                yield InputRecord(start, None, f"{len(row[None])} more fields than the header has")
            else:
                # stance's own CSVs escape formulas (runtime.spreadsheet): read back what was written
                yield InputRecord(start, unescape_cell(row[field]),
                                  fields={k: unescape_cell(row[k]) for k in keep})
            start = reader.line_num + 1


def _open_parquet(path: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    require_file(path, "input file", DataError)
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise DataError(f"{path}: not a readable Parquet file ({e})") from None


def _iter_parquet(path: str, field: str, columns: list[str] | None) -> Iterator[InputRecord]:
    pf = _open_parquet(path)
    names = pf.schema_arrow.names
    if field not in names:
        raise DataError(f"{path}: no {field!r} column (columns: {names})")
    keep = _check_columns(path, columns, names, field)
    row = 0
    for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=[field, *keep]):
        kept = {k: batch.column(k).to_pylist() for k in keep}
        for i, value in enumerate(batch.column(field).to_pylist()):  # non-strings, nulls: named by predict's checks
            row += 1
            yield InputRecord(row, value, fields={k: v[i] for k, v in kept.items()})


def input_size(path: str | None) -> int | None:
    """Number of statements when the file says so cheaply (Parquet metadata); None otherwise."""
    if path and stream_format(path) == "parquet":
        return _open_parquet(path).metadata.num_rows
    return None


def location(path: str | None, rec: InputRecord, position: int) -> str:
    """Where a record came from, for messages: 'line 7', 'row 7' (Parquet) or 'argument 2'."""
    if rec.line == 0:
        return f"argument {position}"
    return f"{'row' if path and stream_format(path) == 'parquet' else 'line'} {rec.line}"


def predict_records(records: Iterable[InputRecord], model: StanceModel, target: str | None = None,
                    chunk_size: int = 1000, min_confidence: float | None = None
                    ) -> Iterator[tuple[InputRecord, Prediction]]:
    """(record, prediction) in input order; unreadable or invalid records come back with `error` set."""
    default_target = resolve_targets(model, target, 1)[0]
    it = iter(records)
    while chunk := list(itertools.islice(it, chunk_size)):
        readable = [r for r in chunk if r.error is None]
        preds = iter(score(model, [r.text for r in readable], [default_target] * len(readable),
                           min_confidence=min_confidence))
        for r in chunk:
            if r.error is not None:
                yield r, Prediction(text="", label=None, scores={}, target=default_target, error=r.error)
            else:
                yield r, next(preds)


@dataclass
class StreamCounts:
    total: int = 0
    invalid: int = 0


def score_stream(records: Iterable[InputRecord], model: StanceModel, counts: StreamCounts, *,
                 target: str | None = None, chunk_size: int = 1000, min_confidence: float | None = None,
                 on_invalid: Literal["report", "mark"] = "report", report: Callable[[str], None] | None = None,
                 progress: bool = False, expected: int | None = None,
                 source: str | None = None) -> Iterator[tuple[InputRecord, Prediction]]:
    """Score records chunk by chunk: (record, prediction) to write, in input order; `counts` counts them all. Each
    invalid record is passed to `report` with its location and, with on_invalid="report", not yielded.

    `progress` shows a tqdm bar on stderr (`expected` is its total when known).
    """
    from tqdm import tqdm

    with tqdm(total=expected, unit=" statements", file=sys.stderr, disable=not progress, dynamic_ncols=True) as bar:
        def say(msg: str) -> None:
            if report is not None:
                # Through tqdm while a bar is shown, so the message does not tear it.
                bar.write(msg, file=sys.stderr) if progress else report(msg)
        for rec, pred in predict_records(records, model, target, chunk_size, min_confidence):
            counts.total += 1
            bar.update(1)
            if pred.valid and len(pred.text) > MAX_MODEL_CHARS:
                say(f"{source or 'input'} {location(source, rec, counts.total)}: {len(pred.text):,} characters; the "
                    f"model read the first {MAX_MODEL_CHARS:,} (the output keeps the whole text)")
            if not pred.valid:
                counts.invalid += 1
                say(f"{source or 'input'} {location(source, rec, counts.total)}: {pred.error}")
                if on_invalid == "report":
                    continue
            yield rec, pred
