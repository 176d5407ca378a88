"""`stance annotate export` and `stance annotate import --format ...`: statements go to a team's annotation tool
(Label Studio, Prodigy, doccano) with the model's suggestion as a pre-annotation, and the tool's export comes back
into the append-only label log, one answer per annotator.

Import is all-or-nothing and idempotent: every answer is checked first (statement id in the pool, the text the
tool showed is the pool's, one known choice, an annotator named), an answer already in the log is counted as
unchanged, and an answer that contradicts one in the log is refused: a label in the log is never changed or lost.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..annotation import formats
from ..config import LABELS
from ..data.labels import LabelLog, read_answers
from ..data.pool import read_pool
from ..data.readers import LINE, DataError, read_records
from ..runtime.files import atomic_write, format_of, require_file

EXPERIMENT = "stance-annotation"


@dataclass
class ExportResult:
    path: Path
    config_path: Path | None
    tasks: int
    suggested: Counter
    model_version: str


def _refuse_existing(*paths: Path | None) -> None:
    for p in paths:
        if p is not None and p.exists():
            raise FileExistsError(f"{p} already exists; choose another name (existing files are never overwritten)")


def _chosen(pool: pd.DataFrame, ids: str | None, data: str) -> pd.DataFrame:
    """The pool's statements named by a batch file (its `id` column, in its order), or the whole pool."""
    if ids is None:
        return pool
    known, seen, order, problems = set(pool["id"]), {}, [], []
    for r in read_records(ids):
        rid = str(r.get("id") or "").strip()
        where = f"{ids} line {r[LINE]}"
        if not rid:
            problems.append(f"{where}: missing id")
        elif rid not in known:
            problems.append(f"{where}: unknown id {rid!r} (not in {data})")
        elif rid in seen:
            problems.append(f"{where}: id {rid!r} repeats line {seen[rid]}")
        else:
            seen[rid] = r[LINE]
            order.append(rid)
    if problems:
        raise DataError(problems)
    return pool.set_index("id").loc[order].reset_index()


def _version(model: str) -> str:
    """The model's reference with its registry version (models:/NAME/latest -> models:/NAME/7)."""
    from .. import tracking

    found = tracking.model_version(model)
    return f"models:/{found}" if model.startswith("models:/") and not found.startswith("models:/") else found


def _tasks(rows: pd.DataFrame, model: str, target: str | None) -> list[formats.Task]:
    from ..prediction.refs import load_model
    from ..prediction.scoring import resolve_targets, score

    m = load_model(model)
    targets = resolve_targets(m, target, len(rows))
    if target is None and "target" in rows:  # a pool that names each statement's target keeps it
        targets = [t if isinstance(t, str) and t.strip() else d for t, d in zip(rows["target"], targets)]
    version = _version(model)
    meta_cols = [c for c in rows.columns if c not in ("id", "text", "target", "where")]
    tasks = []
    for (_, r), t, p in zip(rows.iterrows(), targets, score(m, rows["text"].tolist(), targets)):
        tasks.append(formats.Task(r["id"], r["text"], t, {c: r[c] for c in meta_cols},
                                  p.label if p.valid else None, p.scores if p.valid else {}, version))
    return tasks


def export_tasks(data: str, model: str, output: str, *, fmt: str = "label-studio", ids: str | None = None,
                 config_output: str | None = None, target: str | None = None,
                 labels: list[str] = list(LABELS)) -> ExportResult:
    """Tasks for `fmt` (every statement of `data`, or those a batch file names), each with the model's suggestion;
    for Label Studio also the labelling config. Existing files are never overwritten."""
    f = formats.get(fmt)
    out, config = Path(output), Path(config_output) if config_output else None
    if format_of(out, allowed=("jsonl",)) is None:
        raise ValueError(f"{out}: a tasks file must be .json or .jsonl")
    if config is not None and f.label_config is None:
        raise ValueError(f"{fmt} has no labelling config to write (--config-output is for label-studio)")
    _refuse_existing(out, config)
    tasks = _tasks(_chosen(read_pool(data), ids, data), model, target)
    with atomic_write(out, overwrite=False) as tmp:
        f.write_tasks(tasks, tmp, labels)
    if config is not None:
        with atomic_write(config, overwrite=False) as tmp:
            tmp.write_text(f.label_config(labels, formats.RULES), encoding="utf-8")
    return ExportResult(out, config, len(tasks), Counter(t.suggestion for t in tasks if t.suggestion),
                        tasks[0].model_version if tasks else _version(model))


# ---------------------------------------------------------------- import


@dataclass
class ExchangeImport:
    format: str
    added: Counter = field(default_factory=Counter)        # per annotator
    unchanged: int = 0        # answers already in the log (a re-import)
    repeated: int = 0         # the same answer twice in the export (tasks repeated)
    skipped: list[str] = field(default_factory=list)
    unlabelled: int = 0       # tasks nobody annotated yet
    counts: Counter = field(default_factory=Counter)        # added per label
    run_id: str | None = None


def _check(answers: list[formats.Annotation], pool: pd.DataFrame | None, pool_path: str | None,
           previous: dict, result: ExchangeImport) -> tuple[list[str], list[formats.Annotation]]:
    """(problems, answers to add): each checked against the pool, the export itself and the log."""
    texts = dict(zip(pool["id"], pool["text"])) if pool is not None else None
    problems, seen, todo = [], {}, []
    for a in answers:
        key = (a.id, a.annotator)
        if texts is not None and a.id not in texts:
            problems.append(f"{a.where}: unknown statement id {a.id!r} (not in {pool_path})")
        elif texts is not None and a.text is not None and a.text.strip() != texts[a.id]:
            problems.append(f"{a.where}: the text differs from {pool_path}'s statement {a.id!r} "
                            f"(an export of another pool?)")
        elif key in seen:
            if seen[key].label != a.label:
                problems.append(f"{a.where}: {a.annotator} answered {a.label} here but {seen[key].label} at "
                                f"{seen[key].where} (the same statement in two tasks)")
            else:
                result.repeated += 1
        elif key in previous and previous[key].label != a.label:
            seen[key] = a
            problems.append(f"{a.where}: {a.label} here, but {a.annotator} labelled {a.id!r} "
                            f"{previous[key].label} before ({previous[key].where}); the log keeps it (to change "
                            f"it, label it again with `stance annotate label` or take the old answer back first)")
        elif key in previous:
            seen[key] = a
            result.unchanged += 1
        else:
            seen[key] = a
            todo.append(a)
    return problems, todo


def _previous(labels_file: str, labels: list[str]) -> dict:
    p = Path(labels_file)
    if not p.is_file() or p.stat().st_size == 0:
        return {}
    return {(a.id, a.annotator): a for a in read_answers(p, labels)}


def import_export(export: str, labels_file: str, *, fmt: str | None = None, pool: str | None = None,
                  annotator: str | None = None, users: str | None = None, labels: list[str] = list(LABELS),
                  experiment: str = EXPERIMENT, track: bool = True) -> ExchangeImport:
    """Append every answer of a tool's export to `labels_file`, each under its own annotator (nothing is written
    unless every answer is good). `annotator` names answers the export does not attribute; `users` is a saved
    Label Studio user list that turns user numbers into emails."""
    path = require_file(export, "export file", DataError)
    fmt = fmt or formats.detect(path)
    if fmt is None:
        raise DataError(f"{path}: not an export of {', '.join(formats.FORMATS)}; name it with --format")
    names = formats.label_studio.users_map(require_file(users, "users file", DataError)) if users else {}
    reading = formats.get(fmt).read(path, labels, annotator, names)
    result = ExchangeImport(fmt, skipped=reading.skipped, unlabelled=reading.unlabelled)
    problems, todo = _check(reading.answers, read_pool(pool) if pool else None, pool,
                            _previous(labels_file, labels), result)
    if problems:
        raise DataError(problems)
    logs: dict[tuple, LabelLog] = {}
    for a in todo:
        log = logs.setdefault((a.annotator, a.model_version), LabelLog(labels_file, a.annotator, a.model_version))
        log.add(a.id, a.label, None, origin=f"{fmt}:{path.name}")
        result.added[a.annotator] += 1
        result.counts[a.label] += 1
    if track:
        result.run_id = _track(result, path, labels_file, labels, experiment)
    return result


def _track(result: ExchangeImport, path: Path, labels_file: str, labels: list[str], experiment: str) -> str:
    from .. import tracking

    with tracking.run(experiment, tags={"run_type": "annotation_import", "format": result.format},
                      run_name=f"annotate import {path.name} ({result.format})") as active:
        tracking.log_params({"export": str(path), "labels": labels_file, "format": result.format,
                             "annotators": ",".join(sorted(result.added)) or "-"})
        tracking.log_metrics({"added": sum(result.added.values()), "unchanged": result.unchanged,
                              "repeated": result.repeated, "skipped": len(result.skipped),
                              "unlabelled": result.unlabelled, "annotators": len(result.added),
                              **{f"added_{lab}": result.counts.get(lab, 0) for lab in labels}})
        return active.info.run_id
