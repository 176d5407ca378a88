"""What every exchange format shares: a task to label (a statement with the model's suggestion), an answer read
back from a tool's export, and the checks on one answer's choices (exactly one, from the label set)."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ...data.readers import LINE, DataError, read_records

# The statement's id travels under this key in every tool's task data, so an export maps back to the pool
# (the tools number tasks themselves).
STATEMENT_ID = "statement_id"

# The label guidelines' rule for each label, one line each (data/README.md, "Label guidelines"): the hints a tool
# shows beside each choice.
RULES = {"FAVOR": "supports stricter enforcement or the conditions",
         "AGAINST": "opposes them",
         "NONE": "no inferable stance toward the target"}


@dataclass(frozen=True)
class Task:
    """One statement to label, with what the model suggests."""
    id: str
    text: str
    target: str
    meta: dict[str, Any]           # the statement's other pool fields (speaker, date, ...), shown beside the text
    suggestion: str | None         # the model's label (None where the model refused the statement)
    scores: dict[str, float]
    model_version: str             # models:/NAME/N, runs:/..., or the path of the model that suggested it


@dataclass(frozen=True)
class Annotation:
    """One annotator's label on one statement, as a tool exported it."""
    id: str                        # the statement's id (from the task data)
    label: str
    annotator: str
    where: str                     # file and task/line, for messages
    text: str | None = None        # the text the tool showed, checked against the pool
    model_version: str | None = None


@dataclass
class Reading:
    """Everything read from one export: the answers, and what was not an answer (each named)."""
    answers: list[Annotation] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)     # skipped, cancelled, rejected, or no choice made
    unlabelled: int = 0                                   # tasks nobody annotated yet
    problems: list[str] = field(default_factory=list)

    def done(self) -> "Reading":
        if self.problems:
            raise DataError(self.problems)
        return self


def statement_id(fields: dict, where: str, reading: Reading, key: str = STATEMENT_ID) -> str | None:
    """The statement id a task carries, or None with the problem noted (a task stance did not export)."""
    sid = fields.get(STATEMENT_ID)
    if sid is None or str(sid).strip() == "":
        reading.problems.append(f"{where}: no {key}: not a task of `stance annotate export` (an export from "
                                f"another project?)")
        return None
    return str(sid).strip()


def answer_rows(path: Path, reading: Reading, annotator_keys: tuple[str, ...], default_annotator: str | None,
                names: dict[str, str] | None) -> Iterator[tuple[dict, str, str | None, str]]:
    """A JSONL export's rows with a statement id: (row, id, annotator, where), the annotator the first of
    `annotator_keys` the row has (mapped through `names`), else `default_annotator`; rows without an id are
    noted in `reading` by statement_id."""
    for row in read_records(path, "jsonl"):
        where = f"{path} line {row[LINE]}"
        sid = statement_id(row, where, reading)
        if sid is None:
            continue
        who = next((row[k] for k in annotator_keys if row.get(k)), None)
        who = (names or {}).get(str(who), str(who)) if who else default_annotator
        yield row, sid, who, f"{where} (statement {sid!r} by {who})"


def one_choice(values: list[Any], labels: list[str], where: str) -> tuple[str | None, str | None]:
    """(label, None) for exactly one known choice; (None, problem) otherwise; (None, None) for no choice at all."""
    lookup = {lab.casefold(): lab for lab in labels}
    if not values:
        return None, None
    if len(values) > 1:
        return None, f"{where}: {len(values)} choices {values} in one answer (exactly one of {', '.join(labels)})"
    label = lookup.get(str(values[0]).strip().casefold())
    if label is None:
        return None, (f"{where}: choice {values[0]!r} is not one of {', '.join(labels)} "
                      f"(an export from another project?)")
    return label, None


def load_json(path: Path) -> Any:
    """A whole-file JSON document; a truncated or broken file is one line naming where it breaks."""
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as e:
        raise DataError(f"{path} line {e.lineno}, column {e.colno}: not valid JSON ({e.msg}; a truncated "
                        f"export?)") from None
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def plain(value: Any) -> Any:
    """A pool value as JSON can hold it: NaN (a missing cell) becomes null, numpy scalars Python numbers."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else str(value)


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
