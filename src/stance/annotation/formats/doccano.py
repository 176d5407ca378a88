"""doccano text classification JSONL: tasks carry the model's suggestion as metadata (a `label` given to doccano
would be imported as the importing user's own answer), and its JSONL export is read back (`label`: a list)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .common import STATEMENT_ID, Annotation, Reading, Task, answer_rows, one_choice, plain, write_jsonl


def _task(t: Task) -> dict[str, Any]:
    row = {**{k: plain(v) for k, v in t.meta.items()}, "text": t.text, STATEMENT_ID: t.id, "target": t.target,
           "model_version": t.model_version}
    if t.suggestion is not None:
        row |= {"suggestion": t.suggestion, "suggestion_score": round(t.scores[t.suggestion], 4)}
    return row


def write_tasks(tasks: list[Task], path: Path, labels: list[str]) -> None:
    write_jsonl(path, [_task(t) for t in tasks])


def read(path: Path, labels: list[str], default_annotator: str | None = None,
         names: dict[str, str] | None = None) -> Reading:
    """One file per annotator (doccano exports each user's labels apart) unless rows name their `user`."""
    reading = Reading()
    for row, sid, who, here in answer_rows(path, reading, ("user", "annotator"), default_annotator, names):
        values = row.get("label")
        values = [values] if isinstance(values, str) else list(values or [])
        label, problem = one_choice(values, labels, here)
        if problem or (label is not None and who is None):
            reading.problems.append(problem or f"{here}: the export names no annotator; pass --annotator")
        elif label is None:
            reading.unlabelled += 1
        else:
            reading.answers.append(Annotation(sid, label, who, here, row.get("text"), row.get("model_version")))
    return reading.done()
