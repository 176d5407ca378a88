"""`stance demo CONFIG...`: train, compare and label the case studies (stance.workflows.demo)."""
from __future__ import annotations

import argparse


def add(sub) -> None:
    d = sub.add_parser("demo", help="train several configs and print them side by side with the case studies")
    d.add_argument("configs", nargs="+", help="configs/<name>.yaml files to train, one model each, in this order")
    d.add_argument("--examples", default="data/case_studies.jsonl",
                   help="labelled statements each model labels at the end (default: %(default)s)")
    d.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key in every config (repeatable), e.g. --set seed=14")
    d.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from ..workflows.demo import run_demo

    run_demo(args.configs, args.examples, args.set)
    return 0
