"""Every figure the project logs (confusion, reliability, coverage, comparison), made and saved one way, headless.

matplotlib is imported only when a figure is drawn.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from .calibration_metrics import ECE_BINS, ece

if TYPE_CHECKING:
    import pandas as pd

    from .metrics import Report


def new_figure(figsize: tuple[float, float]):
    """(fig, ax) on the Agg backend: no display on servers and CI; matplotlib is imported only when plotting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)


def save_figure(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def confusion_png(report: Report, path: Path, title: str) -> Path:
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = new_figure((4.5, 4))
    ConfusionMatrixDisplay(report.confusion, display_labels=report.labels).plot(ax=ax, colorbar=False, cmap="Blues")
    ax.set_title(title, fontsize=10)
    return save_figure(fig, path)


def reliability_png(raw: np.ndarray, calibrated: np.ndarray, y: Sequence[int], path: Path, title: str,
                    n_bins: int = ECE_BINS) -> Path:
    """Reliability diagram: accuracy against top-class confidence per bin, before and after calibration."""
    from sklearn.calibration import calibration_curve

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


def coverage_png(table: pd.DataFrame, path: Path, title: str) -> Path:
    fig, ax = new_figure((5.2, 4))
    ax.plot(table["coverage"], table["macro_f1"], "o-", ms=4, label="macro-F1 of answered")
    ax.plot(table["coverage"], table["accuracy"], "s--", ms=3, label="accuracy of answered")
    for _, r in table.iloc[1::2].iterrows():  # every other threshold, to stay legible
        ax.annotate(f"{r['min_confidence']:.2f}", (r["coverage"], r["macro_f1"]), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("coverage (share answered)")
    ax.set_ylabel("score on answered statements")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.invert_xaxis()  # left to right: stricter thresholds
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    return save_figure(fig, path)


def comparison_png(labels: list[str], means: list[float], stds: list[float], xlabel: str, path: Path) -> Path:
    """One bar per compared group, with its spread over seeds."""
    fig, ax = new_figure((7, 0.5 + 0.45 * max(len(labels), 1)))
    ax.barh(labels, means, xerr=stds, color="#4c78a8", capsize=3)
    ax.set_xlabel(xlabel)
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    return save_figure(fig, path)


def per_label_png(models: list[str], labels: list[str], values: list[list[float]], title: str, path: Path) -> Path:
    """Grouped bars: each label's F1 (x) for each compared model (one colour each)."""
    fig, ax = new_figure((7, 3.6))
    width = 0.8 / max(len(models), 1)
    for i, (model, row) in enumerate(zip(models, values)):
        xs = [j + (i - (len(models) - 1) / 2) * width for j in range(len(labels))]
        bars = ax.bar(xs, row, width, label=model)
        ax.bar_label(bars, fmt="%.3f", fontsize=7)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return save_figure(fig, path)
