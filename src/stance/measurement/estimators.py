"""The share estimators, from arrays only: classify-and-count (cc), the confusion-adjusted share (PACC) with a
bootstrap interval, prediction-powered inference with power tuning (PPI++) and the labels-only (classical) mean.

Shares are per label, one-vs-rest: a label's share is the mean of its indicator over a group's statements. The
model's "prediction" for a statement is its probability of the label (not its argmax): a probability carries more
of the truth, so the PPI correction term varies less.

Written here rather than called from ppi-python: the labelled sample may be stratified (the correction term is a
weighted sum over strata), every group needs only a few sums of the unlabelled statements (so millions stream
through), and the benchmark runs thousands of estimates; for one stratum the formulas are ppi-python's
`ppi_mean_ci` with `lam` tuned (Angelopoulos et al., PPI++, 2023, eq. 6 for the mean).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Z95 = 1.959963984540054  # the normal 97.5% quantile: every interval here is 95%


@dataclass
class Sums:
    """What the estimators need of a group's statements, in sums, so a stream of any size fits in memory:
    n, the sum of the probabilities, of their outer products, and the count of each predicted (argmax) label."""
    k: int
    n: int = 0
    total: np.ndarray = field(default=None)  # type: ignore[assignment]
    outer: np.ndarray = field(default=None)  # type: ignore[assignment]
    counts: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.total = np.zeros(self.k) if self.total is None else self.total
        self.outer = np.zeros((self.k, self.k)) if self.outer is None else self.outer
        self.counts = np.zeros(self.k) if self.counts is None else self.counts

    def add(self, proba: np.ndarray) -> "Sums":
        proba = np.asarray(proba, dtype=np.float64).reshape(-1, self.k)
        self.n += len(proba)
        self.total += proba.sum(0)
        self.outer += proba.T @ proba
        self.counts += np.bincount(proba.argmax(1), minlength=self.k) if len(proba) else 0
        return self

    def __add__(self, other: "Sums") -> "Sums":
        return Sums(self.k, self.n + other.n, self.total + other.total, self.outer + other.outer,
                    self.counts + other.counts)

    def mean(self) -> np.ndarray:
        return self.total / self.n

    def cov(self) -> np.ndarray:
        """The probabilities' covariance across the statements (population form: divided by n)."""
        m = self.mean()
        return self.outer / self.n - np.outer(m, m)


def cc(sums: Sums) -> np.ndarray:
    """Classify and count: the share of statements whose top label is each label. Biased by the model's errors."""
    return sums.counts / sums.n


# ---------------------------------------------------------------- adjusted (probabilistic adjusted classify & count)

def confusion_rates(dev_proba: np.ndarray, dev_y: np.ndarray, k: int) -> np.ndarray:
    """M[i, j]: the model's mean probability of label j on dev statements whose true label is i (a label absent
    from dev gets a uniform row: nothing is known about it)."""
    m = np.full((k, k), 1.0 / k)
    for i in range(k):
        rows = dev_proba[dev_y == i]
        if len(rows):
            m[i] = rows.mean(0)
    return m


def pacc(q: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """The true shares p that best explain the mean probabilities q = rates.T @ p, on the simplex (Bella et al.
    2010; Card & Smith 2018): non-negative least squares with the sum-to-one row weighted heavily."""
    from scipy.optimize import nnls

    k = len(q)
    a = np.vstack([rates.T, 1e3 * np.ones((1, k))])
    p, _ = nnls(a, np.concatenate([q, [1e3]]))
    return p / p.sum() if p.sum() > 0 else np.full(k, 1.0 / k)


def adjusted(sums: Sums, dev_proba: np.ndarray, dev_y: np.ndarray, *, reps: int = 200,
             seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PACC's shares and a 95% percentile bootstrap interval: dev resampled with replacement (the confusion's
    uncertainty) and the group's mean probability drawn from its sampling distribution (normal, covariance/n:
    what resampling the group's statements converges to, without keeping them)."""
    k = sums.k
    est = pacc(sums.mean(), confusion_rates(dev_proba, dev_y, k))
    rng = np.random.default_rng(seed)
    # eigh: the covariance of probabilities that sum to one is singular
    qs = rng.multivariate_normal(sums.mean(), sums.cov() / sums.n, size=reps, method="eigh")
    draws = np.empty((reps, k))
    for b in range(reps):
        idx = rng.integers(0, len(dev_y), len(dev_y))
        draws[b] = pacc(qs[b], confusion_rates(dev_proba[idx], dev_y[idx], k))
    low, high = np.percentile(draws, [2.5, 97.5], axis=0)
    return est, low, high


# ---------------------------------------------------------------- with a labelled random sample

@dataclass
class Labelled:
    """A group's hand-labelled statements: one-hot labels y (n, k), the model's probabilities f (n, k), each
    statement's stratum, and each stratum's share of the group's statements (weights summing to 1)."""
    y: np.ndarray
    f: np.ndarray
    strata: np.ndarray
    weights: dict

    def by_stratum(self):
        for h, w in self.weights.items():
            pick = self.strata == h
            yield w, self.y[pick], self.f[pick]


def _var(x: np.ndarray) -> np.ndarray:
    return x.var(0, ddof=1)


def _label_var(y: np.ndarray) -> np.ndarray:
    """The hand labels' variance, at least Agresti and Coull's p(1 - p) with p = (x + 2) / (n + 4): a label that
    no one (or every one) in a small sample has would otherwise get a zero-width interval that misses a true share
    of a few percent."""
    p = (y.sum(0) + 2) / (len(y) + 4)
    return np.maximum(_var(y), p * (1 - p))


def _residual_var(y: np.ndarray, f: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """var(Y - lam f) = var(Y) - 2 lam cov(Y, f) + lam^2 var(f), with var(Y) floored as in _label_var."""
    return np.maximum(_label_var(y) - 2 * lam * _cov(y, f) + lam ** 2 * _var(f), 0.0)


def _cov(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ((a - a.mean(0)) * (b - b.mean(0))).sum(0) / (len(a) - 1)


def tuned_lambda(sample: Labelled, sums: Sums) -> np.ndarray:
    """PPI++'s power tuning per label: the weight on the predictions that minimises the estimate's variance,
    lam = sum_h w_h^2 cov_h(Y, f)/n_h / (var(f)/N + sum_h w_h^2 var_h(f)/n_h), clipped to [0, 1]. For one
    stratum it is cov(Y, f) / ((1 + n/N) var(f)), ppi-python's choice; lam = 0 is the classical estimate."""
    num = np.zeros(sums.k)
    den = np.diag(sums.cov()) * sums.n / max(sums.n - 1, 1) / sums.n
    for w, y, f in sample.by_stratum():
        num += w * w * _cov(y, f) / len(y)
        den += w * w * _var(f) / len(y)
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = np.where(den > 0, num / den, 0.0)
    return np.clip(lam, 0.0, 1.0)


def ppi(sample: Labelled, sums: Sums, lam: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(shares, standard errors): lam * mean f over the group's N statements + sum_h w_h mean_h(Y - lam f).
    Unbiased for any lam; lam = None tunes it (PPI++), lam = 1 is plain PPI."""
    lam = tuned_lambda(sample, sums) if lam is None else np.broadcast_to(np.asarray(lam, float), (sums.k,))
    n_f = sums.n
    var = lam ** 2 * np.diag(sums.cov()) * n_f / max(n_f - 1, 1) / n_f
    est = lam * sums.mean()
    for w, y, f in sample.by_stratum():
        est = est + w * (y - lam * f).mean(0)
        var = var + w * w * _residual_var(y, f, lam) / len(y)
    return est, np.sqrt(var)


def classical(sample: Labelled) -> tuple[np.ndarray, np.ndarray]:
    """(shares, standard errors) from the hand labels alone (stratified mean)."""
    est = np.zeros(sample.y.shape[1])
    var = np.zeros_like(est)
    for w, y, _ in sample.by_stratum():
        est += w * y.mean(0)
        var += w * w * _label_var(y) / len(y)
    return est, np.sqrt(var)


def interval(est: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The normal 95% interval, cut to the [0, 1] a share lives in."""
    return np.clip(est - Z95 * se, 0, 1), np.clip(est + Z95 * se, 0, 1)
