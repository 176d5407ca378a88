"""`stance demo CONFIG...`: train, compare and label the case studies (stance.workflows.demo)."""
from __future__ import annotations

import argparse


def add(sub) -> None:
    d = sub.add_parser("demo", help="train several configs and print them side by side with the case studies")
    d.add_argument("configs", nargs="+")
    d.add_argument("--examples", default="data/case_studies.jsonl")
    d.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    d.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from ..workflows.demo import run_demo

    run_demo(args.configs, args.examples, args.set)
    return 0
