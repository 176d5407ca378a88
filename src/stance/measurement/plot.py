"""The measurement's figure: each label's share per group (bars with 95% intervals, classify-and-count marked
beside), or over time per group (lines with interval bands) when the table has periods."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..evaluation.plots import new_figure, save_figure

PREFERRED = ("ppi", "adjusted", "cc")  # the best estimate a cell has, in this order


def best(table: pd.DataFrame) -> pd.DataFrame:
    """Per group, period and label, the row of the best method the cell has (ppi, else adjusted, else cc)."""
    rank = table["method"].map({m: i for i, m in enumerate(PREFERRED)})
    keep = table[rank.notna()].assign(_rank=rank)
    keep = keep.sort_values("_rank", kind="stable")
    return keep.drop_duplicates(["group", "period", "label"]).drop(columns="_rank").sort_index()


def shares_png(table: pd.DataFrame, labels: list[str], path: Path, title: str) -> Path:
    rows = best(table)
    fig, axes = new_figure((4.2 * len(labels), 3.6))
    fig.clf()
    axes = fig.subplots(1, len(labels), sharey=True)
    over_time = rows["period"].notna().any()
    for ax, label in zip(np.atleast_1d(axes), labels):
        part = rows[rows["label"] == label]
        (_over_time if over_time else _bars)(ax, part, table[(table["label"] == label) & (table["method"] == "cc")])
        ax.set_title(label)
        ax.set_ylim(0, 1)
    np.atleast_1d(axes)[0].set_ylabel("share (95% interval)")
    fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


def _bars(ax, part: pd.DataFrame, cc: pd.DataFrame) -> None:
    x = np.arange(len(part))
    low = (part["estimate"] - part["ci_low"]).clip(lower=0).fillna(0)
    high = (part["ci_high"] - part["estimate"]).clip(lower=0).fillna(0)
    ax.bar(x, part["estimate"], yerr=[low, high], capsize=3, color="tab:blue", alpha=0.7,
           label=" / ".join(sorted(set(part["method"]))))
    ax.scatter(x, cc.set_index("group").reindex(part["group"])["estimate"], marker="x", color="tab:red",
               label="cc (biased)", zorder=3)
    ax.set_xticks(x, part["group"], rotation=30, ha="right", fontsize=8)
    ax.legend(fontsize=7)


def _over_time(ax, part: pd.DataFrame, _cc: pd.DataFrame) -> None:
    periods = sorted(part["period"].dropna().unique())
    pos = {p: i for i, p in enumerate(periods)}
    for group, g in part[part["period"].notna()].groupby("group", sort=True):
        x = g["period"].map(pos)
        line = ax.plot(x, g["estimate"], marker="o", markersize=3, label=group)[0]
        ax.fill_between(x, g["ci_low"], g["ci_high"], alpha=0.15, color=line.get_color())
    step = max(1, len(periods) // 8)
    ax.set_xticks(range(0, len(periods), step), periods[::step], rotation=45, ha="right", fontsize=7)
    ax.legend(fontsize=7)
