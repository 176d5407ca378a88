"""Score a model on a labelled frame and write the evaluation files (plots, reports, predictions)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import tracking
from .config import EvalSetConfig
from .data import load_eval_set
from .metrics import Report, confusion_png, evaluate, predictions_frame
from .models.base import StanceModel


@dataclass
class Evaluation:
    name: str
    report: Report
    predictions: pd.DataFrame
    files: list[Path]


def evaluate_model(model: StanceModel, df: pd.DataFrame, name: str, out_dir: Path) -> Evaluation:
    """`name` prefixes every metric (test_macro_f1, realdev_f_avg, ...) so runs line up in MLflow."""
    out_dir.mkdir(parents=True, exist_ok=True)
    proba = model.predict_proba(df["text"].tolist(), df["target"].tolist())
    preds = predictions_frame(df, proba, model.labels)
    report = evaluate(df["label"], preds["predicted"], model.labels, targets=df["target"])
    files = [confusion_png(report, out_dir / f"confusion_{name}.png",
                           f"{model.kind} on {name} (macro-F1 {report.metrics['macro_f1']:.3f})")]
    (out_dir / f"classification_report_{name}.txt").write_text(report.text_report)
    files.append(out_dir / f"classification_report_{name}.txt")
    preds.to_csv(out_dir / f"predictions_{name}.csv", index=False)
    files.append(out_dir / f"predictions_{name}.csv")
    wrong = preds[preds["label"] != preds["predicted"]].sort_values("confidence", ascending=False)
    wrong.to_csv(out_dir / f"misclassified_{name}.csv", index=False)
    files.append(out_dir / f"misclassified_{name}.csv")
    if not report.per_target.empty:
        report.per_target.to_csv(out_dir / f"per_target_{name}.csv", index=False)
        files.append(out_dir / f"per_target_{name}.csv")
    return Evaluation(name, report, preds, files)


def evaluate_tracked(model_ref: str, spec: EvalSetConfig, out_dir: Path, experiment: str) -> tuple[Evaluation, str]:
    """`stance evaluate`: score a tracked model on a labelled file, as its own MLflow run."""
    from .predict import load_model

    model = load_model(model_ref)
    if spec.default_target is None and len(model.targets) == 1:
        spec = spec.model_copy(update={"default_target": model.targets[0]})  # rows without a target: the model's
    df = load_eval_set(spec, model.labels)  # read and validated before the run exists
    tags = {"model_kind": model.kind, "evaluated_model": model_ref, "run_type": "evaluation"}
    with tracking.run(experiment, tags=tags, run_name=f"evaluate {spec.name}") as active:
        ev = evaluate_model(model, df, spec.name, out_dir)
        tracking.log_params({"evaluated_model": model_ref, "data.path": spec.path, "data.n": len(df)})
        tracking.log_metrics(ev.report.prefixed(spec.name))
        for f in ev.files:
            tracking.log_artifact(f, "eval")
    return ev, active.info.run_id
