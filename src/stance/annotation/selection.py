"""Which unlabelled statements to label next, from a model's probabilities (pool-based active learning).

- uncertainty: lowest top probability first (least confident).
- margin: smallest gap between the two most probable labels first.
- random: a seeded shuffle (the baseline every strategy must beat).
- diverse: the most uncertain 5n candidates, clustered (k-means on TF-IDF) into n groups, the most
  uncertain of each cluster, so a batch is not n copies of one hard case ("cluster-margin" selection).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

STRATEGIES = ("uncertainty", "margin", "random", "diverse")
DEFAULT_STRATEGY = "uncertainty"  # chosen by benchmarks/annotation_curve.py (see docs)
_CANDIDATES = 5  # diverse: candidates per requested item


def uncertainty(proba: np.ndarray) -> np.ndarray:
    """1 - top probability: higher is less sure."""
    return 1.0 - proba.max(axis=1)


def margin(proba: np.ndarray) -> np.ndarray:
    """Negative gap between the top two probabilities: higher is closer to a tie."""
    top2 = np.sort(proba, axis=1)[:, -2:]
    return -(top2[:, 1] - top2[:, 0])


def select(proba: np.ndarray, n: int, strategy: str, *, texts: Sequence[str] | None = None,
           seed: int = 13) -> np.ndarray:
    """Indices (into proba's rows) of the n items to label next, most useful first."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    m = len(proba)
    n = min(n, m)
    if strategy == "random":
        return np.random.default_rng(seed).permutation(m)[:n]
    score = margin(proba) if strategy == "margin" else uncertainty(proba)
    order = np.argsort(-score, kind="stable")
    if strategy != "diverse" or n < 2:
        return order[:n]
    if texts is None:
        raise ValueError("the diverse strategy needs the texts")
    return _diverse(order[: min(m, n * _CANDIDATES)], score, texts, n, seed)


def _diverse(candidates: np.ndarray, score: np.ndarray, texts: Sequence[str], n: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(candidates) <= n:
        return candidates
    X = TfidfVectorizer(sublinear_tf=True, min_df=1).fit_transform([texts[i] for i in candidates])
    clusters = KMeans(n_clusters=n, n_init=3, random_state=seed).fit_predict(X)
    picked = []
    for c in range(n):
        members = candidates[clusters == c]
        if len(members):
            picked.append(members[np.argmax(score[members])])
    # k-means can leave a cluster empty: top up with the next most uncertain candidates.
    rest = [i for i in candidates if i not in set(picked)]
    picked += rest[: n - len(picked)]
    picked = np.array(picked)
    return picked[np.argsort(-score[picked], kind="stable")]
