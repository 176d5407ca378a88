"""Statements to label from JSONL/CSV/Parquet files or stdin, scored and written in chunks so memory stays flat.

A line that cannot be read (bad JSON, no text field) is reported with its line (Parquet: row) number and
the rest of the file is still scored; nothing is dropped silently.
"""
from __future__ import annotations

import contextlib
import csv
import itertools
import json
import os
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Literal

from .data.readers import detect_format
from .errors import DataError
from .files import require_file
from .models.base import StanceModel
from .prediction import Prediction, predict
from .targets import resolve_targets

PARQUET_BATCH_ROWS = 1000  # rows decoded at a time: Parquet input is never read whole
STREAM_FORMATS = ("jsonl", "csv", "parquet")  # read and written in chunks


def stream_format(path: str | None) -> str | None:
    """jsonl, csv or parquet by the readers' suffix rules (stdin and stdout: JSON lines); None for anything else."""
    if path in (None, "-"):
        return "jsonl"
    try:
        fmt = detect_format(path)
    except DataError:
        return None
    return fmt if fmt in STREAM_FORMATS else None


@dataclass(frozen=True)
class InputRecord:
    line: int          # 1-based line where the record starts (Parquet: 1-based row); 0 = a command-line argument
    text: object       # the raw value: validated by predict, not here
    error: str | None = None  # the line itself could not be read


def _undecodable(text: str) -> str | None:
    """Bytes that were not UTF-8 were read as lone surrogates (errors='surrogateescape'): name the first."""
    for ch in text:
        if "\udc80" <= ch <= "\udcff":
            return f"not valid UTF-8 (byte 0x{ord(ch) - 0xDC00:02x}); re-save the file as UTF-8"
    return None


def iter_input_records(path: str, field: str = "text") -> Iterator[InputRecord]:
    fmt = stream_format(path)
    if fmt == "jsonl":
        if path != "-":
            require_file(path, "input file", DataError)
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
    elif fmt == "csv":
        require_file(path, "input file", DataError)
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
    elif fmt == "parquet":
        yield from _iter_parquet(path, field)
    else:
        raise DataError(f"{path}: --input must be .jsonl, .csv, .parquet or - (stdin)")


def _open_parquet(path: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    require_file(path, "input file", DataError)
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise DataError(f"{path}: not a readable Parquet file ({e})") from None


def _iter_parquet(path: str, field: str) -> Iterator[InputRecord]:
    pf = _open_parquet(path)
    names = pf.schema_arrow.names
    if field not in names:
        raise DataError(f"{path}: no {field!r} column (columns: {names})")
    row = 0
    for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=[field]):
        for value in batch.column(0).to_pylist():  # non-strings and nulls are named by predict's checks
            row += 1
            yield InputRecord(row, value)


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
        preds = iter(predict([r.text for r in readable], model, default_target, on_invalid="mark",
                             min_confidence=min_confidence))
        for r in chunk:
            if r.error is not None:
                yield r, Prediction(text="", label=None, scores={}, target=default_target, error=r.error)
            else:
                yield r, next(preds)


# ---------------------------------------------------------------- output


def check_output(output: str | None, input_path: str | None) -> None:
    """Refuse an output that cannot be written, or that is the input (also through a link): scoring a file
    into itself would lose it."""
    if output in (None, "-"):
        return
    out = Path(output)
    if out.is_dir():
        raise DataError(f"--output {output} is a folder; give a file name")
    if not out.resolve().parent.is_dir():
        raise DataError(f"--output {output}: folder {out.resolve().parent} does not exist")
    if input_path not in (None, "-") and out.exists() and Path(input_path).exists() and out.samefile(input_path):
        raise DataError(f"--output {output} is the input file {input_path}; write the predictions to another file")


class PredictionWriter:
    """Predictions to JSONL (a file or stdout), CSV or Parquet, written chunk by chunk.

    JSONL keeps the nested `scores` object; CSV and Parquet get one column per label. Invalid inputs
    written with on_invalid=mark have an `error` and no label.

    A file is written under a temporary name in the same folder and renamed over `path` only when the
    `with` block ends without an error, so a failed or interrupted run leaves an existing file as it was.
    """

    def __init__(self, path: str | None, labels: list[str], chunk_size: int = 1000):
        self.path, self.labels, self.chunk_size = path, list(labels), chunk_size
        self.format = stream_format(path)
        if self.format is None:
            raise DataError(f"{path}: --output must be .jsonl, .csv or .parquet")
        self.columns = ["line", "text", "target", "label", *self.labels, "abstained", "error"]
        self._rows: list[dict] = []
        self._stream = self._csv = self._parquet = None
        self._final = self._tmp = None  # the file renamed into place on success, and its temporary name

    def __enter__(self) -> "PredictionWriter":
        if self.path in (None, "-"):
            self._stream = sys.stdout
            return self
        # Through a link to the file it names; same folder, so the rename is atomic and never crosses disks.
        self._final = Path(os.path.realpath(self.path))
        self._tmp = self._final.with_name(f".{self._final.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        if self.format == "jsonl":
            self._stream = open(self._tmp, "x", encoding="utf-8")
        elif self.format == "csv":
            self._stream = open(self._tmp, "x", encoding="utf-8", newline="")
            self._csv = csv.DictWriter(self._stream, self.columns)
            self._csv.writeheader()
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = pa.schema([("line", pa.int64()), ("text", pa.string()), ("target", pa.string()),
                                ("label", pa.string()), *[(lab, pa.float64()) for lab in self.labels],
                                ("abstained", pa.bool_()), ("error", pa.string())])
            self._parquet = pq.ParquetWriter(str(self._tmp), schema)
        return self

    def write(self, rec: InputRecord, pred: Prediction) -> None:
        self._rows.append(self._row(rec, pred))
        if len(self._rows) >= self.chunk_size:
            self.flush()

    def _row(self, rec: InputRecord, pred: Prediction) -> dict:
        if self.format == "jsonl":
            # The JSON line format of earlier versions: a `line` field only for file input.
            return {"line": rec.line or None, **pred.to_dict()} if rec.line or pred.error else pred.to_dict()
        row = {"line": rec.line or None, "text": pred.text, "target": pred.target, "label": pred.label,
               "abstained": pred.abstained if pred.valid else None, "error": pred.error}
        row.update({lab: pred.scores.get(lab) for lab in self.labels})
        return row

    def flush(self) -> None:
        if not self._rows:
            return
        if self.format == "jsonl":
            self._stream.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self._rows))
            self._stream.flush()
        elif self.format == "csv":
            self._csv.writerows(self._rows)
        else:
            import pyarrow as pa

            self._parquet.write_table(pa.Table.from_pylist(self._rows, schema=self._parquet.schema))
        self._rows = []

    def __exit__(self, exc_type, *exc) -> None:
        try:
            if exc_type is None:
                self.flush()
            self._close()
        except BaseException:
            self._discard()
            raise
        if exc_type is not None:
            self._discard()
        elif self._tmp is not None:
            with open(self._tmp, "rb") as f:
                os.fsync(f.fileno())  # on disk before the rename makes it the only copy
            if self._final.exists():
                shutil.copymode(self._final, self._tmp)  # the replaced file's permissions, not the temp file's
            os.replace(self._tmp, self._final)

    def _close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._stream is not None and self._stream is not sys.stdout:
            self._stream.close()

    def _discard(self) -> None:
        with contextlib.suppress(Exception):
            self._close()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)


@dataclass
class StreamCounts:
    total: int = 0
    invalid: int = 0


def score_stream(records: Iterable[InputRecord], model: StanceModel, writer: PredictionWriter, *,
                 target: str | None = None, chunk_size: int = 1000, min_confidence: float | None = None,
                 on_invalid: Literal["report", "mark"] = "report", report: Callable[[str], None] | None = None,
                 progress: bool = False, expected: int | None = None, source: str | None = None) -> StreamCounts:
    """Score records chunk by chunk into `writer`; each invalid record is passed to `report` with its location.

    `progress` shows a tqdm bar on stderr (`expected` is its total when known).
    """
    from tqdm import tqdm

    counts = StreamCounts()
    with tqdm(total=expected, unit=" statements", file=sys.stderr, disable=not progress, dynamic_ncols=True) as bar:
        def say(msg: str) -> None:
            if report is not None:
                # Through tqdm while a bar is shown, so the message does not tear it.
                bar.write(msg, file=sys.stderr) if progress else report(msg)
        for rec, pred in predict_records(records, model, target, chunk_size, min_confidence):
            counts.total += 1
            bar.update(1)
            if not pred.valid:
                counts.invalid += 1
                say(f"{source or 'input'} {location(source, rec, counts.total)}: {pred.error}")
                if on_invalid == "report":
                    continue
            writer.write(rec, pred)
    return counts
