"""Whether probabilities are calibrated: expected calibration error, Brier score and negative log-likelihood.

ECE: top-class confidence (the label's probability) in 15 equal-width bins. Brier: the multi-class score (sum
over classes of squared error, mean over statements; 0 is perfect, 2 is the worst). The calibrator that is
fitted to improve them is stance.models.calibrator.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

ECE_BINS = 15
_EPS = 1e-12


def safe_log(p: np.ndarray) -> np.ndarray:
    """log p with probabilities clipped away from 0 (a model's exact zero would give -inf)."""
    return np.log(np.clip(p, _EPS, 1.0))


def nll(proba: np.ndarray, y: Sequence[int]) -> float:
    """Mean negative log-likelihood of the true classes."""
    y = np.asarray(y, dtype=int)
    return float(-safe_log(np.asarray(proba)[np.arange(len(y)), y]).mean())


def ece(proba: np.ndarray, y: Sequence[int], n_bins: int = ECE_BINS) -> float:
    """Expected calibration error: top-class confidence in `n_bins` equal-width bins over [0, 1];
    the bin-size-weighted mean of |accuracy - mean confidence|."""
    proba, y = np.asarray(proba), np.asarray(y, dtype=int)
    if len(y) == 0:
        return float("nan")
    conf = proba.max(axis=1)
    right = (proba.argmax(axis=1) == y).astype(float)
    # Bin i holds confidences in (i/n, (i+1)/n]; a confidence of exactly 0 goes to the first bin.
    bins = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        m = bins == b
        total += m.sum() / len(y) * abs(right[m].mean() - conf[m].mean())
    return float(total)


def brier(proba: np.ndarray, y: Sequence[int]) -> float:
    """Multi-class Brier score: squared error against the one-hot label, summed over classes, averaged
    over statements (scikit-learn >= 1.7's multi-class brier_score_loss; written out for older ones)."""
    proba, y = np.asarray(proba, dtype=np.float64), np.asarray(y, dtype=int)
    if len(y) == 0:
        return float("nan")
    # float32 softmax rows sum to 1 only within ~1e-7.
    proba = proba / proba.sum(axis=1, keepdims=True)
    return float(((proba - np.eye(proba.shape[1])[y]) ** 2).sum(axis=1).mean())


def calibration_metrics(raw: np.ndarray, calibrated: np.ndarray, y: Sequence[int]) -> dict[str, float]:
    """ECE, Brier and NLL of the calibrated probabilities, and of the raw ones (suffix _uncalibrated)."""
    out = {}
    for suffix, p in (("", calibrated), ("_uncalibrated", raw)):
        out.update({f"ece{suffix}": ece(p, y), f"brier{suffix}": brier(p, y), f"nll{suffix}": nll(p, y)})
    return out
