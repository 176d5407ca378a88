"""Prodigy: choice tasks (JSONL) with the model's label pre-selected (`accept`), and `prodigy db-out` JSONL read
back: an accepted answer is a label, rejected and ignored ones are reported as skipped."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .common import RULES, STATEMENT_ID, Annotation, Reading, Task, answer_rows, one_choice, plain, write_jsonl


def _task(t: Task, labels: list[str]) -> dict[str, Any]:
    meta = {**{k: plain(v) for k, v in t.meta.items()}, "target": t.target, "model_version": t.model_version}
    if t.suggestion is not None:
        meta |= {"suggestion": t.suggestion, "score": round(t.scores[t.suggestion], 4)}
    return {"text": t.text, STATEMENT_ID: t.id, "target": t.target, "meta": meta,
            "options": [{"id": lab, "text": f"{lab}: {RULES.get(lab, lab)}"} for lab in labels],
            "accept": [t.suggestion] if t.suggestion is not None else []}


def write_tasks(tasks: list[Task], path: Path, labels: list[str]) -> None:
    write_jsonl(path, [_task(t, labels) for t in tasks])


def read(path: Path, labels: list[str], default_annotator: str | None = None,
         names: dict[str, str] | None = None) -> Reading:
    reading = Reading()
    for row, sid, who, here in answer_rows(path, reading, ("_annotator_id", "_session_id"), default_annotator, names):
        answer = row.get("answer")
        if answer is None:
            reading.unlabelled += 1
            continue
        if answer != "accept":
            reading.skipped.append(f"{here}: answer {answer!r}")
            continue
        label, problem = one_choice(list(row.get("accept") or []), labels, here)
        if problem or who is None:
            reading.problems.append(problem or f"{here}: the export names no annotator; pass --annotator")
        elif label is None:
            reading.skipped.append(f"{here}: accepted without a choice")
        else:
            version = (row.get("meta") or {}).get("model_version")
            reading.answers.append(Annotation(sid, label, who, here, row.get("text"), version))
    return reading.done()
