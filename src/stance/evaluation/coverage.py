"""The coverage-accuracy curve: answer only when the top score reaches a threshold, and see what that buys.

For each threshold t, statements whose top (calibrated) score is below t are abstained on (what
`predict(..., min_confidence=t)` marks); the table gives the share answered and the accuracy and
macro-F1 of the answered ones, so a user can pick the threshold that reaches a target precision.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import macro_f1

# 0 answers everything; with three labels the top score is never below 1/3.
THRESHOLDS = (0.0, *np.round(np.arange(0.35, 0.951, 0.05), 2).tolist())


def coverage_table(y_true, proba: np.ndarray, labels: list[str], thresholds=THRESHOLDS) -> pd.DataFrame:
    y = np.asarray([labels.index(lab) for lab in y_true])
    proba = np.asarray(proba)
    pred, conf = proba.argmax(axis=1), proba.max(axis=1)
    rows = []
    for t in thresholds:
        answered = conf >= t
        n = int(answered.sum())
        if n == 0:
            break  # higher thresholds answer nothing either
        yt, yp = y[answered], pred[answered]
        rows.append({"min_confidence": float(t), "coverage": n / len(y), "n_answered": n,
                     "accuracy": float((yt == yp).mean()),
                     "macro_f1": macro_f1(yt, yp, range(len(labels)))})
    return pd.DataFrame(rows)
