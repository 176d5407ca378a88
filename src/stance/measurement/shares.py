"""One table of shares: for each group x period cell, every label's share by each method, as rows
{group, period, label, method, estimate, ci_low, ci_high, n, n_labelled, note}.

A cell holds the sums of its statements' probabilities per sampling stratum (estimators.Sums) and its
hand-labelled statements. Methods: cc always (marked biased, no interval: its error is the model's, not
sampling's); adjusted where the model's dev predictions are known; ppi and classical where the cell has at least
two labelled statements (otherwise the cell falls back to adjusted and says so). A cell with no statements is a
row with n = 0, never left out.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import estimators as est

COLUMNS = ["group", "period", "label", "method", "estimate", "ci_low", "ci_high", "n", "n_labelled", "note"]
METHODS = ("cc", "adjusted", "ppi", "classical")
MIN_LABELLED = 2  # a variance needs two


@dataclass
class Cell:
    k: int
    sums: dict = field(default_factory=dict)      # stratum -> Sums of every statement of the cell
    y: list = field(default_factory=list)         # labelled: true label index
    f: list = field(default_factory=list)         # labelled: the model's probabilities
    strata: list = field(default_factory=list)    # labelled: stratum

    def add(self, stratum, proba: np.ndarray) -> None:
        self.sums.setdefault(stratum, est.Sums(self.k)).add(proba)

    def label(self, stratum, y: int, proba: np.ndarray) -> None:
        self.y.append(y)
        self.f.append(np.asarray(proba, dtype=np.float64))
        self.strata.append(stratum)

    def merged(self, other: "Cell") -> "Cell":
        out = Cell(self.k, dict(self.sums), self.y + other.y, self.f + other.f, self.strata + other.strata)
        for h, s in other.sums.items():
            out.sums[h] = out.sums[h] + s if h in out.sums else s
        return out

    def total(self) -> est.Sums:
        return sum(self.sums.values(), est.Sums(self.k))


@dataclass
class Dev:
    """The model's probabilities on its dev split and the true label indices: its confusion, for `adjusted`."""
    proba: np.ndarray
    y: np.ndarray


def _sample(cell: Cell) -> tuple[est.Labelled, str]:
    """The cell's labelled statements with stratum weights (each stratum's share of the cell's statements); strata
    with fewer than two labels are merged into one, which assumes a simple random sample within the cell."""
    y = np.eye(cell.k)[np.asarray(cell.y, dtype=int)]
    f, strata = np.vstack(cell.f), np.asarray(cell.strata, dtype=object)
    n_all = sum(s.n for s in cell.sums.values())
    weights = {h: s.n / n_all for h, s in cell.sums.items() if s.n}
    if len(weights) > 1 and any((strata == h).sum() < MIN_LABELLED for h in weights):
        return est.Labelled(y, f, np.zeros(len(y), dtype=object), {0: 1.0}), \
            "strata with under 2 labels merged: the interval assumes a simple random sample in this cell"
    return est.Labelled(y, f, strata, weights), ""


def _rows(group, period, labels, method, values, low, high, n, n_lab, note) -> list[dict]:
    return [{"group": group, "period": period, "label": lab, "method": method, "estimate": float(values[j]),
             "ci_low": float(low[j]), "ci_high": float(high[j]), "n": int(n), "n_labelled": int(n_lab),
             "note": note} for j, lab in enumerate(labels)]


def cell_rows(group: str, period: str | None, cell: Cell, labels: list[str], dev: Dev | None, *,
              seed: int = 0, reps: int = 200, labels_given: bool = False, sample_note: str = "") -> list[dict]:
    """Every method's rows for one cell (see the module's docstring)."""
    sums, n_lab, k = cell.total(), len(cell.y), cell.k
    if sums.n == 0:
        return _rows(group, period, labels, "cc", [np.nan] * k, [np.nan] * k, [np.nan] * k, 0, n_lab,
                     "no statements in this group and period")
    nan = np.full(k, np.nan)
    rows = _rows(group, period, labels, "cc", est.cc(sums), nan, nan, sums.n, n_lab,
                 "biased: counts the model's labels, its errors included")
    has_sample = n_lab >= MIN_LABELLED
    fallback = f"only {n_lab} labelled in this group: no ppi, " if labels_given and not has_sample else ""
    if dev is not None:
        a, low, high = est.adjusted(sums, dev.proba, dev.y, reps=reps, seed=seed)
        rows += _rows(group, period, labels, "adjusted", a, low, high, sums.n, n_lab,
                      f"{fallback}PACC with the model's dev confusion")
    if has_sample:
        sample, merged = _sample(cell)
        note = "; ".join(x for x in (merged, sample_note) if x)
        p, se = est.ppi(sample, sums)
        rows += _rows(group, period, labels, "ppi", p, *est.interval(p, se), sums.n, n_lab, note)
        c, se = est.classical(sample)
        rows += _rows(group, period, labels, "classical", c, *est.interval(c, se), sums.n, n_lab,
                      "; ".join(x for x in ("hand labels only", merged, sample_note) if x))
    elif fallback and dev is None:
        for r in rows:
            r["note"] += f"; {fallback}and no dev predictions for adjusted"
    return rows
