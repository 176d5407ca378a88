"""`stance evaluate`: score tracked models on one labelled file (stance.evaluation), each as its own MLflow run."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import tracking
from ..config import EvalSetConfig
from ..data import load_eval_set
from ..errors import DataError
from ..evaluation.error_analysis import cross_model_tables
from ..evaluation.scoring import Evaluation, evaluate_probabilities
from ..models.calibrated import raw_and_calibrated


def _label(kind: str, taken: set[str]) -> str:
    """A short, unique column prefix per evaluated model: its kind, numbered when two share one."""
    name, n = kind, 2
    while name in taken:
        name, n = f"{kind}{n}", n + 1
    taken.add(name)
    return name


@dataclass
class TrackedEvaluation:
    evaluations: dict[str, Evaluation]  # model name (kind) -> its evaluation
    run_ids: dict[str, str]              # model name -> its evaluation run
    comparison_run_id: str | None        # the parent run holding the cross-model tables (2+ models)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    folders: dict[str, Path] = field(default_factory=dict)  # model name -> its run's own folder of files


def evaluate_tracked(model_refs: str | list[str], spec: EvalSetConfig, out_dir: Path,
                     experiment: str, inference: str | None = None) -> TrackedEvaluation:
    """`stance evaluate`: score tracked models on one labelled file, each as its own MLflow run.

    With two or more models the runs are children of one comparison run, which logs the items any
    model got wrong (every model's label and scores), the items they disagree on, and per-group metrics.
    `inference`: the transformer's prediction path to score (default: the one saved with the model).
    """
    from ..prediction.refs import load_model

    refs = [model_refs] if isinstance(model_refs, str) else list(model_refs)
    if out_dir.exists() and not out_dir.is_dir():
        raise DataError(f"--out {out_dir} is a file; give a folder (each run writes its files in a folder of its "
                        f"own below it)")
    loaded, frames, taken, folders = {}, {}, set(), {}
    for ref in refs:  # everything read and validated before any run exists
        model = load_model(ref, inference)
        one = spec
        if one.default_target is None and len(model.targets) == 1:
            one = spec.model_copy(update={"default_target": model.targets[0]})  # rows without a target: the model's
        name = _label(model.kind, taken)
        loaded[name], frames[name] = (ref, model), load_eval_set(one, model.labels)
    labels = {tuple(m.labels) for _, m in loaded.values()}
    if len(labels) > 1:
        raise ValueError(f"the models use different label sets {sorted(labels)}; they cannot be compared")

    def one_run(name: str, parent: str | None) -> tuple[Evaluation, str]:
        ref, model = loaded[name]
        tags = {"model_kind": model.kind, "evaluated_model": ref, "run_type": "evaluation"}
        with tracking.run(experiment, tags=tags, run_name=f"evaluate {name} on {spec.name}",
                          parent_run_id=parent) as active:
            raw, proba = raw_and_calibrated(model, frames[name]["text"].tolist(), frames[name]["target"].tolist())
            # Under the run's id: two evaluations at once never write (and log) each other's files.
            folders[name] = out_dir / active.info.run_id
            ev = evaluate_probabilities(frames[name], raw, proba, model.labels, spec.name, folders[name],
                                        model.kind)
            tracking.log_params({"evaluated_model": ref, "data.path": spec.path, "data.n": len(frames[name]),
                                 "inference": inference or "saved"})
            tracking.log_metrics(ev.report.prefixed(spec.name))
            tracking.log_evaluation(ev)
        return ev, active.info.run_id

    if len(loaded) == 1:
        name = next(iter(loaded))
        ev, run_id = one_run(name, None)
        return TrackedEvaluation({name: ev}, {name: run_id}, None, folders=folders)
    evs, ids = {}, {}
    with tracking.run(experiment, tags={"run_type": "evaluation_comparison"},
                      run_name=f"compare {' vs '.join(loaded)} on {spec.name}") as parent:
        tracking.log_params({"evaluated_models": refs, "data.path": spec.path})
        for name in loaded:
            evs[name], ids[name] = one_run(name, parent.info.run_id)
        tables = cross_model_tables({n: ev.predictions for n, ev in evs.items()}, next(iter(loaded.values()))[1].labels)
        tracking.log_tables({f"{t}_{spec.name}": df for t, df in tables.items()}, "errors")
        tracking.log_metrics({f"{spec.name}_disagreement_rate": len(tables["disagreements"]) / len(frames[name]),
                              f"{spec.name}_n_wrong_by_any": float(len(tables["misclassified"]))})
    return TrackedEvaluation(evs, ids, parent.info.run_id, tables, folders)
