"""The annotation tools a batch goes to and comes back from: one registry of formats (FORMATS), each a module with
`write_tasks(tasks, path, labels)` and `read(path, labels, default_annotator, names) -> Reading` (names: the
tool's annotator ids -> the names the label log keeps); Label Studio also writes its labelling config."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import doccano, label_studio, prodigy
from .common import RULES, STATEMENT_ID, Annotation, Reading, Task

__all__ = ["FORMATS", "Format", "RULES", "STATEMENT_ID", "Annotation", "Reading", "Task", "get"]


@dataclass(frozen=True)
class Format:
    name: str
    write_tasks: Callable[[list[Task], Path, list[str]], None]
    read: Callable[..., Reading]
    label_config: Callable[[list[str], dict[str, str]], str] | None = None


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("label-studio", label_studio.write_tasks, label_studio.read, label_studio.label_config),
    Format("prodigy", prodigy.write_tasks, prodigy.read),
    Format("doccano", doccano.write_tasks, doccano.read),
)}


def get(name: str) -> Format:
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}: one of {', '.join(FORMATS)}")
    return FORMATS[name]


def detect(path: Path) -> str | None:
    """The tool whose export `path` is, from its first bytes; None for anything else (e.g. a filled batch).

    A JSON list is Label Studio's JSON or JSON-MIN; a CSV with an `annotation_id` column its CSV export; JSON
    lines carrying the statement id are Prodigy's (with an `answer`) or doccano's."""
    import json

    from ...runtime.files import format_of

    with open(path, encoding="utf-8-sig", errors="replace") as f:
        head = f.readline()
    fmt = format_of(path)
    if fmt == "csv":
        return "label-studio" if "annotation_id" in head.strip().split(",") or '"annotation_id"' in head else None
    if fmt != "jsonl":
        return None
    if head.lstrip().startswith("["):
        return "label-studio"
    try:
        first = json.loads(head)
    except json.JSONDecodeError:
        return None
    if not isinstance(first, dict) or STATEMENT_ID not in first:
        return None
    return "prodigy" if "answer" in first or "options" in first else "doccano"
