"""Probability calibration fitted on the dev split, stored with the model.

A `Calibrator` maps a model's probabilities to calibrated ones. It works on probabilities, not on a
kind's internals, so one implementation serves every model kind and every inference path:

- temperature: softmax(log p / T). log p equals the logits up to a per-row constant, which softmax
  ignores, so this is exactly temperature scaling of the logits (Guo et al., 2017). T is fitted by
  minimising the dev negative log-likelihood; argmax (the label) never changes.
- isotonic / sigmoid: one-vs-rest maps of each class probability (isotonic regression, or Platt's
  logistic fit on the class log-odds), fitted with scikit-learn, then renormalised per row, as
  scikit-learn's CalibratedClassifierCV does. The label can change.

Stored as JSON (numbers only), never pickled.

Whether it worked (ECE, Brier, NLL) is measured in stance.evaluation.calibration_metrics.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

import numpy as np

from ..evaluation.calibration_metrics import nll, safe_log

Method = Literal["temperature", "isotonic", "sigmoid", "none"]
CALIBRATION_FILE = "calibration.json"


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _renormalise(p: np.ndarray) -> np.ndarray:
    s = p.sum(axis=1, keepdims=True)
    # A row every one-vs-rest map sent to 0 carries no information: uniform, as scikit-learn does.
    return np.where(s > 0, p / np.where(s > 0, s, 1.0), 1.0 / p.shape[1])


@dataclass
class Calibrator:
    method: Method
    temperature: float = 1.0
    # isotonic: per class, the fitted step function's knots; sigmoid: per class, (slope, intercept).
    per_class: list[dict] = field(default_factory=list)
    n_fit: int = 0

    @classmethod
    def fit(cls, proba: np.ndarray, y: Sequence[int], method: Method) -> "Calibrator":
        """Fit on dev probabilities `proba` (n, k) and true class indices `y`."""
        proba, y = np.asarray(proba, dtype=np.float64), np.asarray(y, dtype=int)
        if method == "none":
            return cls("none", n_fit=len(y))
        if len(y) < 2:
            raise ValueError(f"calibration needs at least 2 dev statements, got {len(y)}")
        if method == "temperature":
            return cls("temperature", temperature=fit_temperature(proba, y), n_fit=len(y))
        per_class = []
        for k in range(proba.shape[1]):
            hit = (y == k).astype(float)
            if method == "isotonic":
                from sklearn.isotonic import IsotonicRegression

                iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(proba[:, k], hit)
                per_class.append({"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()})
            elif method == "sigmoid":
                per_class.append(_fit_platt(_logit(proba[:, k]), hit))
            else:
                raise ValueError(f"unknown calibration method {method!r}")
        return cls(method, per_class=per_class, n_fit=len(y))

    def __call__(self, proba: np.ndarray) -> np.ndarray:
        proba = np.asarray(proba, dtype=np.float64)
        if self.method == "none" or len(proba) == 0:
            return proba
        if self.method == "temperature":
            return _softmax(safe_log(proba) / self.temperature)
        cols = []
        for k, params in enumerate(self.per_class):
            if self.method == "isotonic":
                # What IsotonicRegression.predict does with out_of_bounds="clip": linear between knots.
                cols.append(np.interp(proba[:, k], params["x"], params["y"]))
            else:
                cols.append(1.0 / (1.0 + np.exp(-(params["a"] * _logit(proba[:, k]) + params["b"]))))
        return _renormalise(np.column_stack(cols))

    def summary(self) -> dict[str, float | str]:
        out: dict[str, float | str] = {"calibration": self.method, "calibration_n_dev": self.n_fit}
        if self.method == "temperature":
            out["calibration_temperature"] = round(self.temperature, 6)
        return out

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.__dict__, indent=1))

    @classmethod
    def load(cls, path: Path) -> "Calibrator":
        return cls(**json.loads(Path(path).read_text()))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def _fit_platt(score: np.ndarray, hit: np.ndarray) -> dict:
    """Platt scaling: P(class) = sigmoid(a * score + b), by (nearly unregularised) logistic regression."""
    if hit.min() == hit.max():  # the class never (or always) occurs on dev: a constant is all we know
        const = float(np.clip(hit.mean(), 1e-3, 1 - 1e-3))
        return {"a": 0.0, "b": float(np.log(const / (1 - const)))}
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e4, max_iter=1000).fit(score.reshape(-1, 1), hit)
    return {"a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}


def fit_temperature(proba: np.ndarray, y: Sequence[int]) -> float:
    """The T > 0 minimising dev NLL of softmax(log p / T); one convex-enough 1-D search over log T."""
    from scipy.optimize import minimize_scalar

    logp = safe_log(proba)
    res = minimize_scalar(lambda lt: nll(_softmax(logp / np.exp(lt)), y), bounds=(-4.0, 4.0), method="bounded",
                          options={"xatol": 1e-5})
    return float(np.exp(res.x))
