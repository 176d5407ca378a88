"""Probability calibration fitted on the dev split, and the numbers that say whether it worked.

A `Calibrator` maps a model's probabilities to calibrated ones. It works on probabilities, not on a
kind's internals, so one implementation serves every model kind and every inference path:

- temperature: softmax(log p / T). log p equals the logits up to a per-row constant, which softmax
  ignores, so this is exactly temperature scaling of the logits (Guo et al., 2017). T is fitted by
  minimising the dev negative log-likelihood; argmax (the label) never changes.
- isotonic / sigmoid: one-vs-rest maps of each class probability (isotonic regression, or Platt's
  logistic fit on the class log-odds), fitted with scikit-learn, then renormalised per row, as
  scikit-learn's CalibratedClassifierCV does. The label can change.

Stored as JSON (numbers only), never pickled.

Metrics: expected calibration error over 15 equal-width bins of the top-class confidence (the
label's probability), and the multi-class Brier score (sum over classes of squared error, mean over
statements; 0 is perfect, 2 is the worst).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

import numpy as np

Method = Literal["temperature", "isotonic", "sigmoid", "none"]
CALIBRATION_FILE = "calibration.json"
ECE_BINS = 15
_EPS = 1e-12


def _log(p: np.ndarray) -> np.ndarray:
    return np.log(np.clip(p, _EPS, 1.0))


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
            return _softmax(_log(proba) / self.temperature)
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


def nll(proba: np.ndarray, y: Sequence[int]) -> float:
    """Mean negative log-likelihood of the true classes."""
    y = np.asarray(y, dtype=int)
    return float(-_log(np.asarray(proba)[np.arange(len(y)), y]).mean())


def fit_temperature(proba: np.ndarray, y: Sequence[int]) -> float:
    """The T > 0 minimising dev NLL of softmax(log p / T); one convex-enough 1-D search over log T."""
    from scipy.optimize import minimize_scalar

    logp = _log(proba)
    res = minimize_scalar(lambda lt: nll(_softmax(logp / np.exp(lt)), y), bounds=(-4.0, 4.0), method="bounded",
                          options={"xatol": 1e-5})
    return float(np.exp(res.x))


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


def reliability_png(raw: np.ndarray, calibrated: np.ndarray, y: Sequence[int], path: Path, title: str,
                    n_bins: int = ECE_BINS) -> Path:
    """Reliability diagram: accuracy against top-class confidence per bin, before and after calibration."""
    from sklearn.calibration import calibration_curve

    from .plots import new_figure, save_figure

    y = np.asarray(y, dtype=int)
    fig, ax = new_figure((4.8, 4.4))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfectly calibrated")
    for name, p, style in (("uncalibrated", raw, "o-"), ("calibrated", calibrated, "s-")):
        p = np.asarray(p)
        right = (p.argmax(axis=1) == y).astype(int)
        if right.min() == right.max():  # calibration_curve needs both outcomes present
            continue
        acc, conf = calibration_curve(right, p.max(axis=1), n_bins=n_bins, strategy="uniform")
        ax.plot(conf, acc, style, ms=4, label=f"{name} (ECE {ece(p, y, n_bins):.3f})")
    ax.set_xlabel("top-class confidence")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    return save_figure(fig, path)
