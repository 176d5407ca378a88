"""Statements into group x period cells, chunk by chunk: each chunk's probabilities are added to the sums of its
cells, and the hand-labelled statements among them are kept with their labels. Memory grows with the number of
cells and labels, not of statements.

Bad input is named, never dropped: a missing group value or an unreadable date names its file, line and field;
a label whose id never appears in the data, or appears twice, names the label file's line.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from .shares import COLUMNS, Cell, Dev, cell_rows

FREQS = {"year": "Y", "quarter": "Q", "month": "M"}
ALL = "all"
MAX_PROBLEMS = 20


@dataclass
class Sample:
    """Hand labels for a sample of the statements: id -> (label index, where the label is written), the
    stratum column of the design (None: a simple random sample) and a note every ppi row carries."""
    labels: dict
    stratify_by: str | None = None
    note: str = ""


class Collector:
    def __init__(self, labels: list[str], by: list[str] | None = None, time: str | None = None,
                 freq: str = "month", sample: Sample | None = None):
        if freq not in FREQS:
            raise DataError(f"--freq must be one of {', '.join(FREQS)}, got {freq!r}")
        self.labels, self.by, self.time, self.freq, self.sample = list(labels), list(by or []), time, freq, sample
        self.cells: dict[tuple[str, str | None], Cell] = {}
        self.seen_labelled: dict[str, str] = {}
        self.problems: list[str] = []

    def needed_columns(self) -> list[str]:
        strat = [self.sample.stratify_by] if self.sample and self.sample.stratify_by else []
        return list(dict.fromkeys([*self.by, *([self.time] if self.time else []), *strat]))

    def _keys(self, frame: pd.DataFrame, where: list[str]) -> tuple[list[str], list[str | None], list]:
        for col in self.needed_columns():
            if col not in frame.columns:
                raise DataError(f"{where[0].rsplit(' line ', 1)[0]}: no column {col!r} (columns: {list(frame.columns)})")
            bad = frame[col].isna() | (frame[col].astype(str).str.strip() == "")
            self.problems += [f"{where[i]}, field {col!r}: missing (every statement needs a value to be grouped)"
                              for i in np.flatnonzero(bad.to_numpy())]
        groups = [" / ".join(map(str, t)) for t in frame[self.by].astype(str).itertuples(index=False)] \
            if self.by else [ALL] * len(frame)
        periods: list = [None] * len(frame)
        if self.time:
            dates = pd.to_datetime(frame[self.time], errors="coerce", utc=True, format="mixed")
            for i in np.flatnonzero(dates.isna().to_numpy() & frame[self.time].notna().to_numpy()):
                self.problems.append(f"{where[i]}, field {self.time!r}: {frame[self.time].iloc[i]!r} is not a date")
            periods = [None if pd.isna(d) else str(d) for d in dates.dt.tz_localize(None).dt.to_period(FREQS[self.freq])]
        strat = self.sample.stratify_by if self.sample else None
        strata = frame[strat].astype(str).tolist() if strat else [0] * len(frame)
        return groups, periods, strata

    def add(self, frame: pd.DataFrame, proba: np.ndarray, where: list[str]) -> None:
        """One chunk: `frame` has an `id` column (when labels are given) and the grouping columns; `proba` one row
        of probabilities per statement (columns in self.labels' order); `where` each statement's 'file line N'."""
        groups, periods, strata = self._keys(frame, where)
        k = len(self.labels)
        keys, layer = pd.Series(list(zip(groups, periods))), np.asarray(strata, dtype=object)
        for key, idx in keys.groupby(keys, sort=False).indices.items():
            cell = self.cells.setdefault(key, Cell(k))
            for h in dict.fromkeys(layer[idx]):
                cell.add(h, proba[idx[layer[idx] == h]])
        if self.sample is not None:
            self._add_labelled(frame, proba, where, groups, periods, strata)

    def _add_labelled(self, frame, proba, where, groups, periods, strata) -> None:
        ids = frame["id"].astype(str).str.strip().tolist()
        for i, rid in enumerate(ids):
            if rid not in self.sample.labels:
                continue
            if rid in self.seen_labelled:
                self.problems.append(f"{where[i]}, field 'id': {rid!r} is labelled and also on {self.seen_labelled[rid]}")
                continue
            self.seen_labelled[rid] = where[i]
            self.cells[(groups[i], periods[i])].label(strata[i], self.sample.labels[rid][0], proba[i])

    def check(self) -> None:
        """Every problem met so far, and every label whose id was not in the data, as one DataError."""
        missing = [f"{w}, field 'id': {rid!r} is not in the data" for rid, (_, w) in (self.sample.labels.items()
                   if self.sample else []) if rid not in self.seen_labelled]
        problems = self.problems + missing
        if problems:
            more = [f"... and {len(problems) - MAX_PROBLEMS} more problems"] if len(problems) > MAX_PROBLEMS else []
            raise DataError(problems[:MAX_PROBLEMS] + more)

    def _grid(self) -> dict[tuple[str, str | None], Cell]:
        """Every group x every period from the first to the last (an empty one included), and the `all` group."""
        groups = sorted({g for g, _ in self.cells})
        periods = sorted({p for _, p in self.cells}, key=lambda p: (p is None, p or ""))
        if self.time and any(p is not None for p in periods):
            known = [p for p in periods if p is not None]
            span = pd.period_range(min(known), max(known), freq=FREQS[self.freq]).astype(str).tolist()
            periods = span + ([None] if None in periods else [])
        k = len(self.labels)
        grid = {(g, p): self.cells.get((g, p), Cell(k)) for g in groups for p in periods}
        if self.by:
            for p in periods:
                whole = Cell(k)
                for g in groups:
                    whole = whole.merged(grid[(g, p)])
                grid[(ALL, p)] = whole
        return grid

    def table(self, dev: Dev | None, *, seed: int = 0, reps: int = 200) -> pd.DataFrame:
        self.check()
        rows = []
        for (g, p), cell in self._grid().items():
            rows += cell_rows(g, p, cell, self.labels, dev, seed=seed, reps=reps,
                              labels_given=self.sample is not None, sample_note=self.sample.note if self.sample else "")
        return pd.DataFrame(rows, columns=COLUMNS)
