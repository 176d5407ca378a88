"""`stance experiment FILE`: configs x seeds as nested runs (stance.workflows.experiment)."""
from __future__ import annotations

import argparse


def add(sub) -> None:
    x = sub.add_parser("experiment", help="run an experiment file (configs x seeds) as nested MLflow runs")
    x.add_argument("file", help="experiments/<name>.yaml")
    x.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override every config")
    x.add_argument("--no-compare", action="store_true", help="skip the comparison table at the end")
    x.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from ..workflows.experiment import run_experiment

    result = run_experiment(args.file, args.set, compare=not args.no_compare)
    print(f"parent run: {result.parent_run_id} ({len(result.children)} config-and-seed runs, {result.wall_s:.0f} s)")
    return 0
