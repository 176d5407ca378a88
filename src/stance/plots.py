"""Headless matplotlib figures, made and saved one way for every plot the project logs."""
from __future__ import annotations

from pathlib import Path


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
