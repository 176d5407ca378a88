"""Statements to label from JSONL/CSV files or stdin, scored in chunks so memory stays flat.

A line that cannot be read (bad JSON, no text field) is reported with its line number and the
rest of the file is still scored; nothing is dropped silently.
"""
from __future__ import annotations

import contextlib
import csv
import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .models.base import StanceModel
from .predict import Prediction, predict, resolve_targets
from .readers import DataError


@dataclass(frozen=True)
class InputRecord:
    line: int          # 1-based line where the record starts
    text: object       # the raw value: validated by predict, not here
    error: str | None = None  # the line itself could not be read


def _undecodable(text: str) -> str | None:
    """Bytes that were not UTF-8 were read as lone surrogates (errors='surrogateescape'): name the first."""
    for ch in text:
        if "\udc80" <= ch <= "\udcff":
            return f"not valid UTF-8 (byte 0x{ord(ch) - 0xDC00:02x}); re-save the file as UTF-8"
    return None


def iter_input_records(path: str, field: str = "text") -> Iterator[InputRecord]:
    if path == "-" or path.endswith((".jsonl", ".ndjson", ".json")):
        if path != "-" and not Path(path).is_file():
            raise DataError(f"input file not found: {path}")
        with contextlib.nullcontext(sys.stdin) if path == "-" else open(path, encoding="utf-8",
                                                                          errors="surrogateescape") as stream:
            for n, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                if (bad := _undecodable(line)) is not None:
                    yield InputRecord(n, None, bad)
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    yield InputRecord(n, None, f"invalid JSON ({e.msg})")
                    continue
                if not isinstance(obj, dict) or field not in obj:
                    yield InputRecord(n, None, f"expected a JSON object with a {field!r} field")
                    continue
                yield InputRecord(n, obj[field])
    elif path.endswith(".csv"):
        if not Path(path).is_file():
            raise DataError(f"input file not found: {path}")
        with open(path, encoding="utf-8-sig", newline="", errors="surrogateescape") as f:
            reader = csv.DictReader(f)
            if field not in (reader.fieldnames or []):
                raise DataError(f"{path} line 1: no {field!r} column (columns: {reader.fieldnames})")
            start = reader.line_num + 1
            for row in reader:
                if (bad := _undecodable(row.get(field) or "")) is not None:
                    yield InputRecord(start, None, bad)
                elif None in row:
                    yield InputRecord(start, None, f"{len(row[None])} more fields than the header has")
                else:
                    yield InputRecord(start, row[field])
                start = reader.line_num + 1
    else:
        raise DataError(f"{path}: --input must be .jsonl, .csv or - (stdin)")


def predict_records(records: Iterable[InputRecord], model: StanceModel, target: str | None = None,
                    chunk_size: int = 1000, min_confidence: float | None = None
                    ) -> Iterator[tuple[InputRecord, Prediction]]:
    """(record, prediction) in input order; unreadable or invalid records come back with `error` set."""
    default_target = resolve_targets(model, target, 1)[0]
    it = iter(records)
    while chunk := list(itertools.islice(it, chunk_size)):
        readable = [r for r in chunk if r.error is None]
        preds = iter(predict([r.text for r in readable], model, default_target, on_invalid="mark",
                             min_confidence=min_confidence))
        for r in chunk:
            if r.error is not None:
                yield r, Prediction(text="", label=None, scores={}, target=default_target, error=r.error)
            else:
                yield r, next(preds)
