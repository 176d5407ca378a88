"""A scored collection (`stance predict`'s output, or Spark's batch scoring with the input's columns kept) read in
chunks, only the columns the measurement needs: the label scores (one column per label, or JSONL's `scores`
object), `id` where labels are joined, and the grouping columns. Memory stays flat in the number of rows.

Rows that carry an `error` (statements the model refused, written with --on-invalid mark) have no scores: they are
counted and reported, never measured.
"""
from __future__ import annotations

import json
from typing import Iterator

import numpy as np
import pandas as pd

from ..errors import DataError
from ..runtime.files import format_of, require_file

CHUNK_ROWS = 50_000


def _proba(frame: pd.DataFrame, labels: list[str], where: list[str]) -> np.ndarray:
    proba = frame[labels].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(proba).all(1))
    if len(bad):
        raise DataError([f"{where[i]}, fields {labels}: scores are not numbers ({frame[labels].iloc[i].tolist()})"
                         for i in bad[:20]])
    return proba


def _columns_of(path: str, fmt: str) -> list[str]:
    if fmt == "csv":
        return pd.read_csv(path, nrows=0).columns.tolist()
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).schema_arrow.names


def _jsonl_frames(path: str, columns: list[str], labels: list[str]) -> Iterator[tuple[pd.DataFrame, int]]:
    rows, start = [], 1
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{path} line {n}: invalid JSON ({e.msg})") from None
            scores = obj.get("scores") if isinstance(obj.get("scores"), dict) else obj
            rows.append({**{c: obj.get(c) for c in columns}, **{lab: scores.get(lab) for lab in labels},
                         "error": obj.get("error"), "_line": n})
            if len(rows) >= CHUNK_ROWS:
                yield pd.DataFrame(rows), start
                rows, start = [], n + 1
    if rows:
        yield pd.DataFrame(rows), start


def _table_frames(path: str, fmt: str, columns: list[str]) -> Iterator[tuple[pd.DataFrame, int]]:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        _require(path, columns, pf.schema_arrow.names)  # only these columns are decoded
        row = 1
        for batch in pf.iter_batches(batch_size=CHUNK_ROWS, columns=columns):
            frame = batch.to_pandas()
            yield frame.assign(_line=np.arange(row, row + len(frame))), row
            row += len(frame)
        return
    _require(path, columns, _columns_of(path, fmt))
    line = 2  # the header is line 1 (a quoted field spanning lines makes later numbers approximate: rows, then)
    for frame in pd.read_csv(path, usecols=columns, chunksize=CHUNK_ROWS, dtype=object, keep_default_na=False,
                             na_values=[""]):
        yield frame.assign(_line=np.arange(line, line + len(frame))), line
        line += len(frame)


def _require(path: str, wanted: list[str], have: list[str]) -> None:
    missing = [c for c in wanted if c not in have and c != "error"]
    if missing:
        raise DataError(f"{path}: no column {', '.join(map(repr, missing))} (columns: {have})")


def scored_chunks(path: str, labels: list[str], columns: list[str]
                  ) -> Iterator[tuple[pd.DataFrame, np.ndarray, list[str], int]]:
    """(the chunk's columns, its scores (rows x labels), each row's 'file line N', rows left out for an error)."""
    require_file(path, "predictions file", DataError)
    fmt = format_of(path, allowed=("jsonl", "csv", "parquet"))
    if fmt is None:
        raise DataError(f"{path}: --predictions must be .jsonl, .csv or .parquet")
    if fmt == "jsonl":
        frames = _jsonl_frames(path, columns, labels)
    else:
        have = _columns_of(path, fmt)
        frames = _table_frames(path, fmt, [*columns, *labels, *(["error"] if "error" in have else [])])
    unit = "row" if fmt == "parquet" else "line"
    for frame, _ in frames:
        failed = frame["error"].notna() & (frame["error"].astype(str) != "") if "error" in frame else \
            pd.Series(False, index=frame.index)
        ok = frame[~failed.to_numpy()].reset_index(drop=True)
        where = [f"{path} {unit} {n}" for n in ok["_line"]]
        yield ok, _proba(ok, labels, where), where, int(failed.sum())
