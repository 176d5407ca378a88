"""Where `stance predict`'s results go: JSON lines (stdout or a file), CSV or Parquet for programs
(PredictionWriter), or one aligned line per statement for a person at a terminal (TerminalWriter: label,
confidence, the statement shortened). Both have the same interface, so the CLI streams either way.
"""
from __future__ import annotations

import contextlib
import csv
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Callable, TextIO

from ..errors import DataError
from ..runtime.files import atomic_write
from ..runtime.spreadsheet import escape_row
from .records import InputRecord, stream_format
from .scoring import Prediction

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

    def __init__(self, path: str | None, labels: list[str], chunk_size: int = 1000,
                 report: Callable[[str], None] | None = None):
        self.path, self.labels, self.chunk_size = path, list(labels), chunk_size
        self.format = stream_format(path)
        if self.format is None:
            raise DataError(f"{path}: --output must be .jsonl, .csv or .parquet")
        self.columns = ["line", "text", "target", "label", *self.labels, "abstained", "error"]
        # The input's own columns (InputRecord.fields), after `line`: fixed by the first chunk for CSV and Parquet,
        # which need a header; a name the prediction uses too is written as input_<name>.
        self.input_columns: list[str] | None = None
        self.report = report or (lambda msg: print(f"stance predict: {msg}", file=sys.stderr))
        self._unwritten: set[str] = set()
        self._rows: list[tuple[InputRecord, Prediction]] = []
        self._stream = self._csv = self._parquet = None
        self._file: contextlib.ExitStack | None = None  # the atomic write of a file (runtime.files.atomic_write)

    def __enter__(self) -> "PredictionWriter":
        if self.path in (None, "-"):
            self._stream = sys.stdout
            return self
        self._file = contextlib.ExitStack()
        tmp = self._file.enter_context(atomic_write(self.path))
        try:
            self._open(tmp)
        except BaseException:
            self._file.__exit__(*sys.exc_info())  # removes the temporary file
            raise
        return self

    def _open(self, tmp: Path) -> None:
        # CSV's header and Parquet's schema wait for the first chunk, which names the input's columns.
        self._tmp = tmp
        if self.format in ("jsonl", "csv"):
            self._stream = open(tmp, "w", encoding="utf-8", newline="" if self.format == "csv" else None)

    def _start(self) -> None:
        """Fix the output's columns from the first chunk's input fields (or none) and write the header."""
        seen = dict.fromkeys(k for rec, _ in self._rows for k in (rec.fields or {}))
        self.input_columns = list(seen)
        if self.format == "csv":
            self._csv = csv.DictWriter(self._stream, self._all_columns())
            self._csv.writeheader()
        elif self.format == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            found = pa.Table.from_pylist([self._input_part(rec) for rec, _ in self._rows]).schema \
                if self.input_columns else pa.schema([])
            given = [pa.field(f.name, pa.string() if pa.types.is_null(f.type) else f.type) for f in found]
            schema = pa.schema([("line", pa.int64()), *given, ("text", pa.string()), ("target", pa.string()),
                                ("label", pa.string()), *[(lab, pa.float64()) for lab in self.labels],
                                ("abstained", pa.bool_()), ("error", pa.string())])
            self._parquet = pq.ParquetWriter(str(self._tmp), schema)

    def _all_columns(self) -> list[str]:
        return ["line", *(self._renamed(c) for c in self.input_columns or []), *self.columns[1:]]

    def _renamed(self, name: str) -> str:
        taken = {*self.columns, "scores"}
        return f"input_{name}" if name in taken else name

    def _input_part(self, rec: InputRecord) -> dict:
        """The record's input fields under their output names; a field the first chunk did not have is named once
        on stderr (CSV and Parquet fix their columns then) instead of being dropped unsaid."""
        fields = rec.fields or {}
        if self.format != "jsonl":
            for name in fields.keys() - set(self.input_columns) - self._unwritten:
                self._unwritten.add(name)
                self.report(f"line {rec.line}: input field {name!r} is not written: the output's columns come "
                            f"from the first {self.chunk_size} lines (name them with --columns)")
            return {self._renamed(c): fields.get(c) for c in self.input_columns}
        return {self._renamed(k): v for k, v in fields.items()}

    def write(self, rec: InputRecord, pred: Prediction) -> None:
        self._rows.append((rec, pred))
        if len(self._rows) >= self.chunk_size:
            self.flush()

    def _row(self, rec: InputRecord, pred: Prediction) -> dict:
        if self.format == "jsonl":
            # The JSON line format of earlier versions: a `line` field only for file input.
            if not (rec.line or pred.error):
                return pred.to_dict()
            return {"line": rec.line or None, **self._input_part(rec), **pred.to_dict()}
        row = {"line": rec.line or None, **self._input_part(rec), "text": pred.text, "target": pred.target,
               "label": pred.label, "abstained": pred.abstained if pred.valid else None, "error": pred.error}
        row.update({lab: pred.scores.get(lab) for lab in self.labels})
        return row

    def flush(self) -> None:
        if self.input_columns is None and self.format != "jsonl":
            self._start()
        if not self._rows:
            return
        rows, self._rows = [self._row(rec, pred) for rec, pred in self._rows], []
        if self.format == "jsonl":
            self._stream.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
            self._stream.flush()
        elif self.format == "csv":
            self._csv.writerows(escape_row(r) for r in rows)  # formulas escaped (runtime.spreadsheet)
        else:
            self._write_parquet(rows)

    def _write_parquet(self, rows: list[dict]) -> None:
        import pyarrow as pa

        try:
            table = pa.Table.from_pylist(rows, schema=self._parquet.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise DataError(f"lines {rows[0]['line']}-{rows[-1]['line']}: an input column's values do not match "
                            f"the type the first chunk gave it ({e}); name the columns with --columns") from None
        self._parquet.write_table(table)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.flush()
            self._close()
        except BaseException:
            with contextlib.suppress(Exception):
                self._close()
            if self._file is not None:
                self._file.__exit__(*sys.exc_info())  # removes the temporary file
            raise
        if self._file is not None:
            self._file.__exit__(exc_type, exc, tb)  # renamed into place; after an error, removed

    def _close(self) -> None:
        parquet, stream, self._parquet, self._stream = self._parquet, self._stream, None, None
        if parquet is not None:
            parquet.close()
        if stream is not None and stream is not sys.stdout:
            stream.close()


# ---------------------------------------------------------------- for a person at a terminal

UNSURE = "?"  # flags a result below --min-confidence (label and score kept)


def shorten(text: str, width: int) -> str:
    """One line of at most `width` characters: whitespace runs become one space, the cut is marked with …"""
    flat = re.sub(r"\s+", " ", text).strip()
    if width < 1:
        return ""
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


class TerminalWriter:
    def __init__(self, stream: TextIO, labels: list[str], target: str | None = None, width: int | None = None):
        self.stream, self.target = stream, target
        # Wide enough for every label and for "invalid" (an --on-invalid mark line).
        self.label_width = max(len(x) for x in [*labels, "invalid"])
        self.width = width or shutil.get_terminal_size(fallback=(100, 24)).columns
        self.unsure = 0
        self._started = False

    def __enter__(self) -> "TerminalWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None and self.unsure:
            self.stream.write(f"{UNSURE} = top score below --min-confidence ({self.unsure} statements)\n")
        self.stream.flush()

    def line(self, rec: InputRecord, pred: Prediction) -> str:
        if not pred.valid:
            head = f"{'invalid':<{self.label_width}}  {'-':>4}  "
            where = f"line {rec.line}: " if rec.line else ""
            return head + shorten(f"{where}{pred.error}", self.width - len(head))
        flag = UNSURE if pred.abstained else " "
        head = f"{pred.label:<{self.label_width}}  {max(pred.scores.values()):.2f}{flag} "
        return head + shorten(pred.text, self.width - len(head))

    def write(self, rec: InputRecord, pred: Prediction) -> None:
        if not self._started:
            self._started = True
            target = pred.target or self.target
            if target:
                self.stream.write(shorten(f"stance toward: {target}", self.width) + "\n")
        self.unsure += bool(pred.valid and pred.abstained)
        self.stream.write(self.line(rec, pred) + "\n")
        self.stream.flush()  # a person watching sees each line as it is scored
