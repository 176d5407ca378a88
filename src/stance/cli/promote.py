"""`stance promote`: point models:/stance@champion at the best registered model (stance.workflows.promote)."""
from __future__ import annotations

import argparse


def add(sub) -> None:
    pr = sub.add_parser("promote", help="point models:/stance@champion at the best registered model (best dev "
                                        "macro-F1 among those passing >= 90%% of the behavioural suite)")
    pr.add_argument("models", nargs="*", help="registered versions to choose from, e.g. models:/stance-tfidf/3 "
                                              "(default: the newest version of every registered model)")
    pr.add_argument("--tracking-uri", default=None,
                    help="MLflow store (default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db)")
    pr.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from ..workflows.promote import promote

    p = promote(args.models or None, args.tracking_uri)
    print(p.account)
    if p.champion is None:
        return 1
    print(f"\nmodels:/stance@champion -> {p.champion} (a copy of {p.chosen_from})")
    return 0
