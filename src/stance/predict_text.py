"""`stance predict` for people: one aligned line per statement (label, confidence, the statement shortened).

Programs get JSON lines (a pipe, `--json`, `--output`); see predict_io.PredictionWriter. This writer has the
same interface, so the CLI streams either way.
"""
from __future__ import annotations

import re
import shutil
from typing import TextIO

from .prediction import Prediction
from .predict_io import InputRecord

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
