"""How fast does labelling your own statements pay off? A simulated user, by cross-validation.

The user's labelled statements are split into k folds. For each held-out fold, the other folds are the
user's unlabelled pool: starting from the model trained without any of them, a strategy picks a batch,
the "user" labels it (its true labels are revealed), the model is retrained on the original training data
plus everything labelled so far, and the held-out fold is scored; again until the largest size. Each
strategy sees only what it picked, so the curves compare what labelling N statements buys.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from .. import models
from ..config import Config
from ..evaluation.metrics import score_labels
from .selection import STRATEGIES, select


@dataclass
class CurveResult:
    scores: pd.DataFrame   # fold, strategy, n_labelled, macro_f1, f_avg
    summary: pd.DataFrame  # strategy x n_labelled: mean, std, min, max of macro_f1 over folds


def _fit(cfg: Config, train: pd.DataFrame, dev: pd.DataFrame, labels: list[str]):
    model = models.build(cfg.model, labels, cfg.seed)
    model.fit(train, dev)
    return model


def _score(model, df: pd.DataFrame, labels: list[str]) -> dict[str, float]:
    pred = model.predict(df["text"].tolist(), df["target"].tolist())
    m = score_labels(df["label"], pred, labels).metrics
    return {"macro_f1": m["macro_f1"], "f_avg": m["f_avg"]}


def simulate(cfg: Config, base_train: pd.DataFrame, dev: pd.DataFrame, user: pd.DataFrame, *,
             sizes: Sequence[int] = (25, 50, 100, 200), strategies: Sequence[str] = STRATEGIES, folds: int = 5,
             user_weight: float = 1.0, report: Callable[[str], None] = print) -> CurveResult:
    """Scores of `cfg.model` on each held-out fold of `user` after labelling n of the other folds."""
    labels = list(cfg.data.labels)
    sizes = sorted(sizes)
    user = user.reset_index(drop=True)
    if "weight" not in base_train:
        base_train = base_train.assign(weight=1.0)
    base = _fit(cfg, base_train, dev, labels)
    rows = []
    splitter = StratifiedKFold(folds, shuffle=True, random_state=cfg.seed)
    for fold, (pool_idx, held_idx) in enumerate(splitter.split(user, user["label"])):
        held, pool = user.iloc[held_idx], user.iloc[pool_idx].reset_index(drop=True)
        if sizes[-1] > len(pool):
            raise ValueError(f"fold {fold}: {len(pool)} statements to choose from, fewer than {sizes[-1]}")
        start = _score(base, held, labels)
        for strategy in strategies:
            rows.append({"fold": fold, "strategy": strategy, "n_labelled": 0, **start})
            chosen: list[int] = []
            model = base
            for n in sizes:
                rest = np.setdiff1d(np.arange(len(pool)), chosen)
                proba = model.predict_proba(pool["text"].iloc[rest].tolist(), pool["target"].iloc[rest].tolist())
                picked = select(proba, n - len(chosen), strategy, texts=pool["text"].iloc[rest].tolist(),
                                seed=cfg.seed + fold)
                chosen += [int(rest[i]) for i in picked]
                mine = pool.iloc[chosen].assign(weight=user_weight, source="user")
                model = _fit(cfg, pd.concat([base_train, mine], ignore_index=True), dev, labels)
                rows.append({"fold": fold, "strategy": strategy, "n_labelled": n, **_score(model, held, labels)})
                report(f"fold {fold} {strategy:<11} n={n:<4} macro-F1 {rows[-1]['macro_f1']:.3f} "
                       f"(start {start['macro_f1']:.3f})")
    scores = pd.DataFrame(rows)
    summary = (scores.groupby(["strategy", "n_labelled"])["macro_f1"].agg(["mean", "std", "min", "max"])
               .reset_index())
    return CurveResult(scores, summary)


def curve_png(summary: pd.DataFrame, path, title: str):
    from ..evaluation.plots import new_figure, save_figure

    fig, ax = new_figure((6.5, 4.2))
    for strategy, part in summary.groupby("strategy", sort=False):
        ax.errorbar(part["n_labelled"], part["mean"], yerr=part["std"], marker="o", capsize=3, label=strategy)
    ax.set_xlabel("own statements labelled")
    ax.set_ylabel("macro-F1 on held-out statements")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)
