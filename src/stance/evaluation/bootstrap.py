"""Paired bootstrap: is one group of models better than another on the same statements, or is it noise?

Resamples the statements (every model of a group scored on the same resample, its F1 averaged over the group's
runs, e.g. seeds) and reads a 95% interval off the differences.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import f1_per_resample, stance_labels


def paired(preds_a: list[pd.DataFrame], preds_b: list[pd.DataFrame], metric: str = "macro_f1", n: int = 2000,
           seed: int = 0) -> tuple[float, float, float, int]:
    """(difference, 2.5th and 97.5th percentile of it, number of statements) of `metric` (macro_f1 or f_avg)
    between two groups of prediction frames (scoring.predictions_frame) of the same statements."""
    key = "where" if "where" in preds_a[0].columns else "text"
    base = preds_a[0][[key, "label"]]
    labels = sorted(set(base["label"]).union(*(set(p["predicted"]) for p in preds_a + preds_b)))
    if metric == "f_avg":
        classes = [labels.index(c) for c in stance_labels(labels)]
    else:
        classes = list(range(len(labels)))
    code = {lab: i for i, lab in enumerate(labels)}
    y = base["label"].map(code).to_numpy()

    def aligned(df: pd.DataFrame) -> np.ndarray:
        merged = base[[key]].merge(df[[key, "predicted"]], on=key, how="left")
        if merged["predicted"].isna().any() or len(merged) != len(base):
            raise ValueError("the two groups were not evaluated on the same test statements")
        return merged["predicted"].map(code).to_numpy()

    k = len(labels)
    idx = np.random.default_rng(seed).integers(0, len(y), size=(n, len(y)))
    full = np.arange(len(y))[None, :]
    score = lambda preds: np.mean([f1_per_resample(y, aligned(p), idx, k, classes) for p in preds], axis=0)  # noqa: E731
    point = lambda preds: float(np.mean([f1_per_resample(y, aligned(p), full, k, classes)[0] for p in preds]))  # noqa: E731
    diffs = score(preds_a) - score(preds_b)
    low, high = np.percentile(diffs, [2.5, 97.5])
    return point(preds_a) - point(preds_b), float(low), float(high), len(y)
