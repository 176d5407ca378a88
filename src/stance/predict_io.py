"""Read statements to label from JSONL/CSV files or stdin, naming the line of anything unreadable."""
from __future__ import annotations

import contextlib
import csv
import json
import sys
from pathlib import Path
from typing import Iterator

from .readers import DataError


def iter_input_texts(path: str, field: str = "text") -> Iterator[str]:
    if path == "-" or path.endswith((".jsonl", ".ndjson", ".json")):
        if path != "-" and not Path(path).is_file():
            raise DataError(f"input file not found: {path}")
        name = "<stdin>" if path == "-" else path
        with contextlib.nullcontext(sys.stdin) if path == "-" else open(path, encoding="utf-8") as stream:
            for n, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    raise DataError(f"{name} line {n}: invalid JSON ({e.msg})") from None
                if not isinstance(obj, dict) or field not in obj:
                    raise DataError(f"{name} line {n}: expected a JSON object with a {field!r} field")
                yield obj[field]
    elif path.endswith(".csv"):
        if not Path(path).is_file():
            raise DataError(f"input file not found: {path}")
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            if field not in (reader.fieldnames or []):
                raise DataError(f"{path} line 1: no {field!r} column (columns: {reader.fieldnames})")
            for row in reader:
                yield row[field]
    else:
        raise DataError(f"{path}: --input must be .jsonl, .csv or - (stdin)")

