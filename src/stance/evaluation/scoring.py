"""A model's probabilities on a labelled frame as an Evaluation: metrics, files (plots, reports, predictions) and
tables.

The same metric names, files and tables whatever kind produced the probabilities: the caller scores the model
(models.calibrated.raw_and_calibrated) and passes arrays and labels. Nothing here talks to MLflow: train and
`stance evaluate` log an Evaluation with tracking.log_evaluation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..runtime.spreadsheet import write_frame
from .calibration_metrics import calibration_metrics
from .coverage import coverage_table
from .error_analysis import group_tables, most_confident_errors, per_source_labels
from .metrics import Report, score_labels
from .plots import confusion_png, coverage_png, reliability_png


@dataclass
class Evaluation:
    name: str
    report: Report
    predictions: pd.DataFrame
    files: list[Path]
    # Shown as tables in the MLflow UI (mlflow.log_table): misclassified, coverage, by_<column>.
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def evaluate_probabilities(df: pd.DataFrame, raw: np.ndarray, proba: np.ndarray, labels: list[str], name: str,
                           out_dir: Path, model_name: str) -> Evaluation:
    """`raw`: the model's uncalibrated probabilities on `df`, `proba` the calibrated ones (the same array when the
    model has no calibrator), columns in `labels` order. `name` prefixes every metric (test_macro_f1,
    realdev_f_avg, ...) so runs line up in MLflow; `model_name` titles the figures."""
    out_dir.mkdir(parents=True, exist_ok=True)
    preds = predictions_frame(df, proba, labels)
    report = score_labels(df["label"], preds["predicted"], labels, targets=df["target"])
    y = [labels.index(lab) for lab in df["label"]]
    report.metrics.update(calibration_metrics(raw, proba, y))
    files = [confusion_png(report, out_dir / f"confusion_{name}.png",
                           f"{model_name} on {name} (macro-F1 {report.metrics['macro_f1']:.3f})")]
    files.append(reliability_png(raw, proba, y, out_dir / f"reliability_{name}.png", f"{model_name} on {name}"))
    (out_dir / f"classification_report_{name}.txt").write_text(report.text_report)
    files.append(out_dir / f"classification_report_{name}.txt")
    write_frame(preds, out_dir / f"predictions_{name}.csv")
    files.append(out_dir / f"predictions_{name}.csv")
    wrong = preds[preds["label"] != preds["predicted"]].sort_values("confidence", ascending=False)
    write_frame(wrong, out_dir / f"misclassified_{name}.csv")
    files.append(out_dir / f"misclassified_{name}.csv")
    if not report.per_target.empty:
        write_frame(report.per_target, out_dir / f"per_target_{name}.csv")
        files.append(out_dir / f"per_target_{name}.csv")
    curve = coverage_table(df["label"], proba, labels)
    write_frame(curve, out_dir / f"coverage_{name}.csv")
    files += [out_dir / f"coverage_{name}.csv",
              coverage_png(curve, out_dir / f"coverage_{name}.png", f"{model_name} on {name}: answer only when sure")]
    tables = {f"misclassified_{name}": wrong.reset_index(drop=True), f"coverage_{name}": curve}
    tables.update({f"{t}_{name}": g for t, g in group_tables(preds, labels).items()})
    tables[f"per_source_labels_{name}"] = per_source_labels(preds, labels, name)
    tables[f"most_confident_errors_{name}"] = most_confident_errors(preds)
    for t, g in tables.items():
        if t.startswith(("by_", "per_source_labels_")):
            write_frame(g, out_dir / f"{t}.csv")
            files.append(out_dir / f"{t}.csv")
    return Evaluation(name, report, preds, files, tables)


def predictions_frame(df: pd.DataFrame, proba: np.ndarray, labels: list[str]) -> pd.DataFrame:
    """Per-row predictions with scores: the basis for misclassified lists and paired bootstraps."""
    out = df.drop(columns=[c for c in ("split",) if c in df.columns]).copy()
    out["predicted"] = [labels[i] for i in proba.argmax(axis=1)]
    out["confidence"] = proba.max(axis=1)
    for j, lab in enumerate(labels):
        out[f"p_{lab.lower()}"] = proba[:, j]
    return out
