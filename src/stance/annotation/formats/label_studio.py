"""Label Studio: tasks with the model's suggestion as a pre-annotation and the labelling config to create a
project with; its JSON, JSON-MIN and CSV exports read back, one answer per annotation and annotator.

A task is {"data": {statement_id, text, target, ...the pool's other fields}, "predictions": [{model_version,
score, result: [one choices result]}]}. Label Studio numbers tasks itself; `data.statement_id` maps an export
back to the pool.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from ...data.readers import LINE, DataError, read_records
from ...runtime.files import format_of
from .common import (STATEMENT_ID, Annotation, Reading, Task, load_json, one_choice, plain, statement_id,
                     write_json)

CHOICES, TEXT = "stance", "text"   # the Choices control's name and the Text object it labels
# What JSON-MIN and CSV exports add beside the task's data fields (everything else there is the task's data).
MIN_FIELDS = ("id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", CHOICES)


def label_config(labels: list[str], rules: dict[str, str]) -> str:
    """The project's labelling config: the statement, the target beside it, one choice per label with its rule."""
    choices = "\n".join(f"        <Choice value={quoteattr(lab)} hint={quoteattr(rules.get(lab, lab))}/>"
                        for lab in labels)
    return f"""<View>
  <View style="display: flex; gap: 2em">
    <View style="flex: 3">
      <Header value="Statement"/>
      <Text name="{TEXT}" value="${TEXT}"/>
    </View>
    <View style="flex: 2">
      <Header value="Target"/>
      <Text name="target" value="$target"/>
    </View>
  </View>
  <Header value="Stance of the statement toward the target"/>
  <Choices name="{CHOICES}" toName="{TEXT}" choice="single-radio" showInline="true" required="true">
{choices}
  </Choices>
</View>
"""


def _task(t: Task) -> dict[str, Any]:
    data = {**{k: plain(v) for k, v in t.meta.items()}, STATEMENT_ID: t.id, "text": t.text, "target": t.target}
    task: dict[str, Any] = {"data": data}
    if t.suggestion is not None:
        task["predictions"] = [{
            "model_version": t.model_version, "score": round(t.scores[t.suggestion], 4),
            "result": [{"from_name": CHOICES, "to_name": TEXT, "type": "choices",
                        "value": {"choices": [t.suggestion]}}]}]
    return task


def write_tasks(tasks: list[Task], path: Path, labels: list[str]) -> None:
    write_json(path, [_task(t) for t in tasks])


# ---------------------------------------------------------------- reading exports


USER = "label-studio-user-{}"  # an annotator the export names by number only (see users_map)


def annotator_name(completed_by: Any) -> str | None:
    """Who answered: the email (or username) where the export gives the user (a snapshot export with
    `annotations__completed_by`, or JSON-MIN after it), else `label-studio-user-N` for user number N."""
    if isinstance(completed_by, dict):
        found = completed_by.get("email") or completed_by.get("username")
        return str(found) if found else annotator_name(completed_by.get("id"))
    if completed_by in (None, ""):
        return None
    return USER.format(completed_by) if str(completed_by).strip().isdigit() else str(completed_by)


def users_map(path: Path) -> dict[str, str]:
    """`label-studio-user-N` -> email (or username) from a saved `GET /api/users/` answer (a JSON list of users)."""
    doc = load_json(path)
    if not isinstance(doc, list) or not all(isinstance(u, dict) and "id" in u for u in doc):
        raise DataError(f"{path}: not a Label Studio user list (a JSON list of objects with id and email, as "
                        f"GET /api/users/ answers)")
    return {USER.format(u["id"]): str(u.get("email") or u.get("username") or USER.format(u["id"])) for u in doc}


def read(path: Path, labels: list[str], default_annotator: str | None = None,
         names: dict[str, str] | None = None) -> Reading:
    """The answers of a JSON, JSON-MIN (a .json file either way) or CSV export; `names` renames annotators
    (see users_map)."""
    name = _namer(names or {}, default_annotator)
    if format_of(path) == "csv":
        return _read_min(read_records(path, "csv"), path, labels, name, "line")
    doc = load_json(path)
    if not isinstance(doc, list) or not all(isinstance(t, dict) for t in doc):
        return Reading(problems=[f"{path}: not a Label Studio export (expected a JSON list of tasks)"]).done()
    if any("annotations" in t or "data" in t for t in doc):
        return _read_full(doc, path, labels, name)
    for i, row in enumerate(doc, 1):
        row[LINE] = i
    return _read_min(doc, path, labels, name, "item")


def _namer(names: dict[str, str], default: str | None):
    def name(completed_by: Any) -> str | None:
        found = annotator_name(completed_by)
        return names.get(found, found) if found is not None else default
    return name


def _read_full(doc: list[dict], path: Path, labels: list[str], name) -> Reading:
    reading = Reading()
    for task in doc:
        where = f"{path} task {task.get('id', '?')}"
        sid = statement_id(task.get("data") or {}, where, reading, f"data.{STATEMENT_ID}")
        annotations = task.get("annotations") or []
        if sid is None:
            continue
        if not annotations:
            reading.unlabelled += 1
        # Exports list predictions by id; each annotation carries the one its annotator saw.
        shown = next((p.get("model_version") for p in task.get("predictions") or [] if isinstance(p, dict)), None)
        for ann in annotations:
            seen = ann.get("prediction")
            version = (seen.get("model_version") if isinstance(seen, dict) else None) or shown
            who = name(ann.get("completed_by"))
            here = f"{where} (statement {sid!r}, annotation {ann.get('id', '?')} by {who})"
            if ann.get("was_cancelled"):
                reading.skipped.append(f"{here}: skipped in Label Studio")
                continue
            values = [v for r in ann.get("result") or [] if r.get("type") == "choices"
                      for v in (r.get("value") or {}).get("choices") or []]
            _add(reading, here, sid, values, who, labels, (task.get("data") or {}).get("text"), version)
    return reading.done()


def _min_choices(value: Any) -> list[Any]:
    """JSON-MIN and CSV give one choice as a string and several as {"choices": [...]} (a JSON string in CSV)."""
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return [value]
    if isinstance(value, dict):
        return list(value.get("choices") or [])
    return [] if value in (None, "") else [value]


def _read_min(rows: list[dict], path: Path, labels: list[str], name, unit: str) -> Reading:
    reading = Reading()
    for row in rows:
        where = f"{path} {unit} {row[LINE]} (task {row.get('id', '?')})"
        sid = statement_id(row, where, reading)
        if sid is None:
            continue
        if row.get("annotation_id") in (None, "") and row.get(CHOICES) in (None, ""):
            reading.unlabelled += 1
            continue
        who = name(row.get("annotator"))
        _add(reading, f"{where}, statement {sid!r} by {who}", sid, _min_choices(row.get(CHOICES)), who, labels,
             row.get("text"), None)
    return reading.done()


def _add(reading: Reading, where: str, sid: str, values: list, who: str | None, labels: list[str],
         text: Any, version: str | None) -> None:
    label, problem = one_choice(values, labels, where)
    if problem:
        reading.problems.append(problem)
    elif who is None:
        reading.problems.append(f"{where}: the export names no annotator; pass --annotator")
    elif label is None:
        reading.skipped.append(f"{where}: submitted without a choice")
    else:
        reading.answers.append(Annotation(sid, label, who, where, text if isinstance(text, str) else None, version))
