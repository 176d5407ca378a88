"""Paired bootstrap CI of the macro-F1 difference between two training runs on one evaluation set, from the
prediction files each run wrote (outputs/<run id>/eval/predictions_<set>.csv; stance.evaluation.bootstrap).

    .venv/bin/python benchmarks/paired_bootstrap.py RUN_A RUN_B test_realpool realdev

prints, per set, B - A and its 95% interval (2,000 resamples of the set's statements).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from stance.evaluation.bootstrap import paired


def main(run_a: str, run_b: str, *sets: str) -> None:
    for name in sets:
        a, b = (pd.read_csv(Path("outputs") / r / "eval" / f"predictions_{name}.csv") for r in (run_a, run_b))
        diff, low, high, n = paired([b], [a])  # paired gives its first group minus its second
        print(f"{name}: {run_b[:8]} - {run_a[:8]} macro-F1 = {diff:+.3f}, 95% CI [{low:+.3f}, {high:+.3f}] (n={n})")


if __name__ == "__main__":
    main(*sys.argv[1:])
