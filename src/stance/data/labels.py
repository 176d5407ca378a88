"""Annotation label files: an append-only JSON-lines log of answers, keyed by statement id.

One line per answer: {"id", "label", "confidence", "annotator", "time", "model_version", ...}. A later
answer by the same annotator on the same id replaces the earlier one (a correction); {"id", "undo": true,
"annotator"} takes that annotator's answer back. Nothing is ever rewritten in place, so a crash or Ctrl-C
loses at most the answer being typed.

Resolving a log to one label per id: an answer marked "adjudicated": true wins; otherwise every
annotator must agree, and a disagreement is an error that names the lines (run `stance annotate
agreement` and adjudicate).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from ..runtime import locks
from .readers import LINE, DataError, read_records

FIELDS = ("id", "label", "confidence", "annotator", "time", "model_version")


@dataclass
class Answer:
    id: str
    label: str
    annotator: str
    where: str
    confidence: int | None = None
    adjudicated: bool = False
    extra: dict[str, Any] | None = None


def _check_confidence(value: Any, where: str, problems: list[str]) -> int | None:
    if value in (None, ""):
        return None
    try:
        c = int(value)
    except (TypeError, ValueError):
        c = None
    if c is None or str(c) != str(value).strip() or not 1 <= c <= 3:
        problems.append(f"{where}, field 'confidence': {value!r} is not 1, 2 or 3")
        return None
    return c


def read_answers(path: str | os.PathLike, labels: list[str], known_ids: Iterable[str] | None = None,
                 default_annotator: str = "unknown") -> list[Answer]:
    """Every current answer in a label log (undone and superseded ones removed), validated.

    Problems (unknown id, unknown label, bad confidence, missing id) are all collected and raised
    together, each naming file and line.
    """
    records = read_records(path)
    lookup = {lab.casefold(): lab for lab in labels}
    ids = set(known_ids) if known_ids is not None else None
    problems: list[str] = []
    current: dict[tuple[str, str], Answer] = {}
    for r in records:
        where = f"{path} line {r[LINE]}"
        rid = r.get("id")
        if not isinstance(rid, (str, int)) or str(rid).strip() == "":
            problems.append(f"{where}: missing 'id'")
            continue
        rid = str(rid).strip()
        if ids is not None and rid not in ids:
            problems.append(f"{where}: unknown id {rid!r} (not in the pool)")
            continue
        annotator = str(r.get("annotator") or default_annotator)
        if r.get("undo"):
            current.pop((rid, annotator), None)
            continue
        raw = r.get("label")
        label = lookup.get(str(raw).strip().casefold()) if raw is not None else None
        if label is None:
            problems.append(f"{where}, field 'label': {raw!r} is not one of {', '.join(labels)}")
            continue
        conf = _check_confidence(r.get("confidence"), where, problems)
        extra = {k: v for k, v in r.items() if k not in (*FIELDS, "undo", "adjudicated", LINE)}
        current.pop((rid, annotator), None)  # re-insert: dict order follows the latest answer
        current[(rid, annotator)] = Answer(rid, label, annotator, where, conf, bool(r.get("adjudicated")), extra)
    if problems:
        raise DataError(problems)
    return list(current.values())


def resolve(answers: list[Answer], source: str) -> pd.DataFrame:
    """One row per id (id, label, confidence, n_annotators, where, + extra fields of the deciding line)."""
    by_id: dict[str, list[Answer]] = {}
    for a in answers:
        by_id.setdefault(a.id, []).append(a)
    rows, problems = [], []
    for rid, group in by_id.items():
        final = [a for a in group if a.adjudicated]
        if final:
            chosen = final[-1]
        elif len({a.label for a in group}) == 1:
            chosen = group[-1]
        else:
            shown = "; ".join(f"{a.annotator}={a.label} (line {a.where.rsplit(' ', 1)[-1]})" for a in group)
            problems.append(f"{source}: id {rid!r} has different labels and no adjudicated answer: {shown} "
                            f"(lines given; run `stance annotate agreement` and adjudicate)")
            continue
        rows.append({**(chosen.extra or {}), "id": rid, "label": chosen.label, "confidence": chosen.confidence,
                     "n_annotators": len({a.annotator for a in group}), "where": chosen.where})
    if problems:
        raise DataError(problems)
    return pd.DataFrame(rows, columns=None if rows else ["id", "label", "confidence", "n_annotators", "where"])


class LabelLog:
    """Append answers to a label file, one flushed and fsynced line at a time (nothing is ever rewritten).

    One writer per annotator and log: a session of the same annotator on the same log in another process is
    refused while this one holds it (two would answer the same items twice, the later answer silently winning);
    other annotators write beside it. The lock goes with the process, or with `close()` / the end of a `with`
    block; logs of one annotator within one process share it.
    """

    def __init__(self, path: str | os.PathLike, annotator: str, model_version: str | None = None):
        self.path, self.annotator, self.model_version = Path(path), annotator, model_version
        if self.path.exists() and not self.path.is_file():
            raise DataError(f"{self.path}: exists and is not a file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", annotator)[:40] + "-" + hashlib.sha1(annotator.encode()).hexdigest()[:8]
        try:
            self._lock = locks.take(self.path.parent / f".{self.path.name}.{safe}.lock",
                                    f"{self.path}: annotator {annotator!r} is labelling in another session right "
                                    f"now; finish or stop that one first (one session per annotator and log)")
        except locks.BusyError as e:
            raise DataError(str(e)) from None

    def close(self) -> None:
        if self._lock is not None:
            self._lock, lock = None, self._lock
            lock.release()

    def __del__(self) -> None:  # a log dropped without close() gives its share of the lock back
        if getattr(self, "_lock", None) is not None:
            self.close()

    def __enter__(self) -> "LabelLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        # A file that does not end in a newline (a crash mid-line in some other tool) gets one first.
        needs_nl = self.path.is_file() and self.path.stat().st_size > 0 and not _ends_with_newline(self.path)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(("\n" if needs_nl else "") + line)
            f.flush()
            os.fsync(f.fileno())

    def add(self, rid: str, label: str, confidence: int | None = None, **extra: Any) -> dict[str, Any]:
        record = {"id": rid, "label": label, "confidence": confidence, "annotator": self.annotator,
                  "time": now(), "model_version": self.model_version, **extra}
        self._write(record)
        return record

    def undo(self, rid: str) -> None:
        self._write({"id": rid, "undo": True, "annotator": self.annotator, "time": now()})


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def labelled_ids(path: str | os.PathLike | None, labels: list[str]) -> set[str]:
    """Ids that already have a current answer in a label log (any annotator); none when the file is absent."""
    if path is None or not Path(path).is_file() or Path(path).stat().st_size == 0:
        return set()
    return {a.id for a in read_answers(path, labels)}
