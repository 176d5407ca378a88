"""`stance annotate`: pick what to label next, label it, import filled batches, measure agreement.

Labels go to an append-only JSON-lines log (stance.data.labels) keyed by pool id; training reads them
joined to the pool text (a data source with `labels:` + `pool:`), so retraining after a batch is one more
`stance train`. Each `next` and `import` is an MLflow run beside the training runs.
"""
from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..annotation.selection import DEFAULT_STRATEGY, select
from ..config import LABELS
from ..data.labels import LabelLog, labelled_ids, read_answers, resolve
from ..data.pool import read_pool
from ..data.readers import DataError, read_records, LINE
from ..runtime.console import say
from ..runtime.files import atomic_write, format_of
from ..runtime.spreadsheet import write_frame

EXPERIMENT = "stance-annotation"


@dataclass
class Batch:
    frame: pd.DataFrame   # id, text, suggestion, one score column per label, label, confidence (to fill in)
    path: Path | None
    run_id: str | None
    n_candidates: int


def write_new_file(path: Path, write) -> None:
    """`write(tmp)` through runtime.files.atomic_write: an existing file is refused, and a failure half-way leaves
    nothing behind."""
    if path.exists():
        raise FileExistsError(f"{path} already exists; choose another --out (existing files are never overwritten)")
    with atomic_write(path, overwrite=False) as tmp:
        write(tmp)


def _batch_format(path: Path) -> str:
    fmt = format_of(path, allowed=("csv", "jsonl"))
    if fmt is None:
        raise DataError(f"{path}: a batch file must be .csv or .jsonl")
    return fmt


def _scored(model, texts: list[str], target: str | None) -> list:
    """The model's Prediction for each statement, by prediction.score: the checks and cleaning of stance.predict."""
    from ..prediction.scoring import resolve_targets, score

    return score(model, texts, resolve_targets(model, target, len(texts)))


def next_batch(pool: str, model: str, labels_file: str | None, n: int = 50, strategy: str = DEFAULT_STRATEGY,
               out: str | None = None, target: str | None = None, seed: int = 13,
               experiment: str = EXPERIMENT, track: bool = True) -> Batch:
    """The next `n` statements of `pool` to label (those already in `labels_file` are skipped)."""
    from .. import tracking
    from ..prediction.refs import load_model

    if out is not None:
        _batch_format(Path(out))
        if Path(out).exists():
            raise FileExistsError(f"{out} already exists; choose another --out (existing files are never overwritten)")
    m = load_model(model)
    pool_df = read_pool(pool)
    done = labelled_ids(labels_file, m.labels)
    todo = pool_df[~pool_df["id"].isin(done)].reset_index(drop=True)
    if todo.empty:
        raise ValueError(f"every statement of {pool} already has a label in {labels_file}")
    ranked, proba, labels = _rankable(m, todo, target, pool)
    idx = select(proba, n, strategy, texts=ranked["text"].tolist(), seed=seed)
    picked = ranked.iloc[idx]
    frame = pd.DataFrame({"id": picked["id"].to_numpy(), "text": picked["text"].to_numpy(),
                          "suggestion": [labels[i] for i in idx]})
    for j, lab in enumerate(m.labels):
        frame[lab] = np.round(proba[idx, j], 4)
    frame["selection"] = strategy  # carried into the label log: `stance measure` refuses non-random picks for ppi
    frame["label"], frame["confidence"] = "", ""
    if out is not None:
        write_new_file(Path(out), lambda p: _write_batch(frame, p, _batch_format(Path(out))))
    run_id = None
    if track:
        version = tracking.model_version(model)
        with tracking.run(experiment, tags={"run_type": "annotation_next", "model_version": version},
                          run_name=f"annotate next ({strategy}, n={len(frame)})") as active:
            tracking.log_params({"strategy": strategy, "n": n, "pool": pool, "labels": labels_file or "",
                                 "model": model, "model_version": version, "seed": seed})
            tracking.log_metrics({"pool_size": len(pool_df), "already_labelled": len(pool_df) - len(todo),
                                  "selected": len(frame), "selected_mean_top_score": float(proba[idx].max(1).mean()),
                                  **{f"suggested_{k}": v for k, v in Counter(frame["suggestion"]).items()},
                                  **{f"labelled_{k}": v for k, v in _label_counts(labels_file, m.labels).items()}})
            tracking.log_text("\n".join(frame["id"]) + "\n", "batch_ids.txt")
            run_id = active.info.run_id
    return Batch(frame, Path(out) if out else None, run_id, len(todo))


def _rankable(model, todo: pd.DataFrame, target: str | None, pool: str) -> tuple[pd.DataFrame, np.ndarray, list]:
    """(the statements the model can score, their probabilities, their labels): a statement stance.predict refuses
    cannot be ranked by the model's uncertainty, so it is left out of the selection and named."""
    preds = _scored(model, todo["text"].tolist(), target)
    refused = [i for i, p in enumerate(preds) if not p.valid]
    for i in refused:
        say(f"{pool}: id {todo['id'].iloc[i]!r} left out of the selection: {preds[i].error}")
    preds = [p for p in preds if p.valid]
    if not preds:
        raise ValueError(f"the model can score none of the unlabelled statements of {pool}")
    proba = np.array([[p.scores[lab] for lab in model.labels] for p in preds])
    return todo.drop(index=refused).reset_index(drop=True), proba, [p.label for p in preds]


def _write_batch(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "csv":
        write_frame(frame, path, quoting=csv.QUOTE_NONNUMERIC)
    else:
        with open(path, "w", encoding="utf-8") as f:
            for rec in frame.to_dict("records"):
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def _label_counts(labels_file: str | None, labels: list[str]) -> dict[str, int]:
    if not labels_file or not Path(labels_file).is_file() or Path(labels_file).stat().st_size == 0:
        return {lab: 0 for lab in labels}
    c = Counter(a.label for a in read_answers(labels_file, labels))
    return {lab: c.get(lab, 0) for lab in labels}


@dataclass
class ImportResult:
    added: int
    unchanged: int      # answers identical to ones already in the log
    blank: int          # rows left without a label (not answered yet)
    counts: dict[str, int]
    run_id: str | None


def _check_batch(records: list[dict], path: Path, pool: str | None, known: set | None, lookup: dict[str, str],
                 labels: list[str], previous: dict, annotator: str) -> tuple[list[str], list[tuple], int, int]:
    """(problems, answers to add as (id, label, confidence), blank rows, rows already in the log) of a filled batch."""
    problems, seen, todo, blank, unchanged = [], {}, [], 0, 0
    for r in records:
        where = f"{path} line {r[LINE]}"
        rid = "" if r.get("id") is None else str(r["id"]).strip()  # a JSON id 0 is an id
        raw = r.get("label")
        if not rid:
            problems.append(f"{where}: missing id")
            continue
        if known is not None and rid not in known:
            problems.append(f"{where}: unknown id {rid!r} (not in {pool})")
            continue
        if raw is None or str(raw).strip() == "" or (isinstance(raw, float) and raw != raw):
            blank += 1
            continue
        label = lookup.get(str(raw).strip().casefold())
        if label is None:
            problems.append(f"{where}, id {rid!r}: label {raw!r} is not one of {', '.join(labels)}")
            continue
        conf = r.get("confidence")
        conf = None if conf is None or str(conf).strip() == "" else str(conf).strip()
        if conf is not None and conf not in ("1", "2", "3", "1.0", "2.0", "3.0"):
            problems.append(f"{where}, id {rid!r}: confidence {r.get('confidence')!r} is not 1, 2 or 3")
            continue
        conf_i = None if conf is None else int(float(conf))
        if rid in seen and seen[rid][0] != label:
            problems.append(f"{where}: id {rid!r} again with label {label} (line {seen[rid][1]} says {seen[rid][0]})")
            continue
        if rid in seen:
            continue
        seen[rid] = (label, r[LINE])
        if rid in previous:
            if previous[rid].label != label:
                problems.append(f"{where}: id {rid!r} is {label} here but {annotator} labelled it "
                                f"{previous[rid].label} before ({previous[rid].where}); to change it, label it "
                                f"again with `stance annotate label` or take the old answer back first")
                continue
            unchanged += 1
            continue
        todo.append((rid, label, conf_i))
    return problems, todo, blank, unchanged


def import_batch(batch: str, labels_file: str, annotator: str, labels: list[str] = list(LABELS),
                 pool: str | None = None, experiment: str = EXPERIMENT, track: bool = True) -> ImportResult:
    """Append the answers of a filled batch (CSV/JSONL with id, label[, confidence]) to `labels_file`.

    Every bad row is named (line, id) and nothing is written unless all rows are good: an unknown id
    (not in the batch's pool), a label outside the label set, a bad confidence, the same id twice with
    different labels, or an id this annotator already labelled differently in the log.
    """
    from .. import tracking

    path = Path(batch)
    _batch_format(path)
    records = read_records(path)
    known = set(read_pool(pool)["id"]) if pool else None
    lookup = {lab.casefold(): lab for lab in labels}
    previous = {a.id: a for a in read_answers(labels_file, labels) if a.annotator == annotator} \
        if Path(labels_file).is_file() and Path(labels_file).stat().st_size else {}
    problems, todo, blank, unchanged = _check_batch(records, path, pool, known, lookup, labels, previous, annotator)
    if problems:
        raise DataError(problems)
    # How each statement was chosen (a batch's `selection` column), kept so `stance measure` can tell random samples.
    chosen = {str(r["id"]).strip(): r["selection"] for r in records if r.get("selection") and r.get("id") is not None}
    with LabelLog(labels_file, annotator, model_version=None) as log:
        for rid, label, conf_i in todo:
            log.add(rid, label, conf_i, origin=path.name, **({"selection": chosen[rid]} if rid in chosen else {}))
    counts = Counter(label for _, label, _ in todo)
    run_id = None
    if track:
        with tracking.run(experiment, tags={"run_type": "annotation_import", "annotator": annotator},
                          run_name=f"annotate import {path.name} ({annotator})") as active:
            tracking.log_params({"batch": str(path), "labels": labels_file, "annotator": annotator})
            tracking.log_metrics({"added": len(todo), "unchanged": unchanged, "blank": blank,
                                  **{f"added_{lab}": counts.get(lab, 0) for lab in labels},
                                  **{f"labelled_{k}": v for k, v in _label_counts(labels_file, labels).items()}})
            run_id = active.info.run_id
    return ImportResult(len(todo), unchanged, blank, {lab: counts.get(lab, 0) for lab in labels}, run_id)


def session_items(pool: str, labels_file: str, annotator: str, *, batch: str | None = None,
                  model: str | None = None, target: str | None = None):
    """The statements still to label by `annotator` (batch order, else pool order), with suggestions."""
    from ..annotation.session import Item

    pool_df = read_pool(pool).set_index("id")
    mine = {a.id for a in read_answers(labels_file, list(LABELS)) if a.annotator == annotator} \
        if Path(labels_file).is_file() and Path(labels_file).stat().st_size else set()
    suggestions: dict[str, tuple[str | None, dict[str, float]]] = {}
    if batch:
        rows = read_records(batch)
        unknown = [f"{batch} line {r[LINE]}: unknown id {r.get('id')!r} (not in {pool})"
                   for r in rows if str(r.get("id")) not in pool_df.index]
        if unknown:
            raise DataError(unknown)
        ids = [str(r["id"]) for r in rows]
        suggestions = _batch_suggestions(batch, rows)
    else:
        ids = list(pool_df.index)
    ids = [i for i in dict.fromkeys(ids) if i not in mine]
    version = None
    if model and ids:
        from .. import tracking
        from ..prediction.refs import load_model

        m = load_model(model)
        for i, p in zip(ids, _scored(m, pool_df.loc[ids, "text"].tolist(), target)):
            suggestions[i] = (p.label, p.scores)  # no suggestion (None, {}) for a statement predict refuses
        version = tracking.model_version(model)
    return [Item(i, pool_df.at[i, "text"], *suggestions.get(i, (None, {}))) for i in ids], version


def _score(value: object, where: str, problems: list[str]) -> float | None:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        x = float("nan")
    if x != x or not 0 <= x <= 1:
        problems.append(f"{where}: {value!r} is not a score between 0 and 1")
        return None
    return x


def _batch_suggestions(batch: str, rows: list[dict]) -> dict[str, tuple[str | None, dict[str, float]]]:
    """The suggestion and scores a batch carries per id; a score that is not a number is named by line and column."""
    problems: list[str] = []
    out = {}
    for r in rows:
        given = {lab: r[lab] for lab in LABELS if str(r.get(lab, "")).strip() not in ("", "nan")}
        scores = {lab: _score(v, f"{batch} line {r[LINE]}, column {lab!r}", problems) for lab, v in given.items()}
        out[str(r["id"])] = (r.get("suggestion") or None, {k: v for k, v in scores.items() if v is not None})
    if problems:
        raise DataError(problems)
    return out


def _answers_of(path: str, annotator: str | None, labels: list[str]):
    answers = read_answers(path, labels)
    if annotator is None:
        return answers
    mine = [x for x in answers if x.annotator == annotator]
    if not mine:
        raise DataError(f"{path}: no answers by annotator {annotator!r} "
                        f"(annotators there: {sorted({x.annotator for x in answers})})")
    return mine


def agreement_report(a: str, b: str, *, a_name: str | None = None, b_name: str | None = None,
                     adjudicated: str | None = None, out: str | None = None,
                     labels: list[str] = list(LABELS)) -> str:
    """Markdown report of two annotators' agreement (and, given adjudicated labels, each one's accuracy).

    A and B may be one file holding both annotators' answers: name them with a_name / b_name."""
    from ..annotation.agreement import agreement
    from ..evaluation.summary import frame_markdown

    ans_a, ans_b = _answers_of(a, a_name, labels), _answers_of(b, b_name, labels)
    ag = agreement(ans_a, ans_b, labels)
    parts = [ag.summary(), "", frame_markdown(ag.per_label.set_index("label").round(3)), "",
             frame_markdown(ag.confusion.rename_axis("A \\ B"))]
    if adjudicated:
        final = dict(zip(*(lambda r: (r["id"], r["label"]))(resolve(read_answers(adjudicated, labels), adjudicated))))
        for name, ans in (("A", ans_a), ("B", ans_b)):
            scored = [x for x in ans if x.id in final]
            if scored:
                acc = sum(x.label == final[x.id] for x in scored) / len(scored)
                parts.append(f"annotator {name} agrees with the adjudicated labels on {acc:.1%} of {len(scored)} items")
    if out:
        write_new_file(Path(out), lambda p: write_frame(ag.disagreements, p))
        parts.append(f"wrote {len(ag.disagreements)} disagreements to {out}")
    return "\n".join(parts)


@dataclass
class SampleBatch:
    frame: pd.DataFrame   # id, text, selection, stratum, label, confidence (to fill in)
    path: Path
    manifest_path: Path
    manifest: dict
    run_id: str | None


def sample_batch(data: str, n: int, out: str, seed: int, stratify_by: str | None = None,
                 experiment: str = EXPERIMENT, track: bool = True) -> SampleBatch:
    """A random (or stratified) sample of `data` to label, written as a batch (`out`, .csv or .jsonl) and its
    manifest (`<out stem>.manifest.json` beside it): what `stance measure` needs for a valid interval."""
    from .. import tracking
    from ..annotation.sampling import draw

    path = Path(out)
    _batch_format(path)
    manifest_path = path.with_name(f"{path.stem}.manifest.json")
    for p in (path, manifest_path):
        if p.exists():
            raise FileExistsError(f"{p} already exists; choose another --out (existing files are never overwritten)")
    rows, manifest = draw(read_pool(data), n, seed, stratify_by)
    manifest = {**manifest, "data": str(data), "batch": path.name}
    frame = pd.DataFrame({"id": rows["id"].to_numpy(), "text": rows["text"].to_numpy(),
                          "selection": "stratified" if stratify_by else "random", "stratum": rows["stratum"].to_numpy(),
                          "label": "", "confidence": ""})
    write_new_file(path, lambda p: _write_batch(frame, p, _batch_format(path)))
    write_new_file(manifest_path, lambda p: p.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8"))
    run_id = None
    if track:
        with tracking.run(experiment, tags={"run_type": "annotation_sample"},
                          run_name=f"annotate sample ({manifest['design']}, n={n})") as active:
            tracking.log_params({"data": data, "n": n, "seed": seed, "stratify_by": stratify_by or "",
                                 "design": manifest["design"], "out": out})
            tracking.log_text(json.dumps(manifest, indent=1), "sample_manifest.json")
            run_id = active.info.run_id
    return SampleBatch(frame, path, manifest_path, manifest, run_id)
