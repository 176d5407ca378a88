"""`stance ui`: the MLflow UI with direct links to the runs (stance.workflows.ui)."""
from __future__ import annotations

import argparse


def add(sub) -> None:
    u = sub.add_parser("ui", help="the MLflow UI over the tracking store (127.0.0.1 unless --host says otherwise), "
                                  "with direct links to the training runs and the comparison")
    u.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    u.add_argument("--port", type=int, default=5000, help="port to listen on (default: %(default)s)")
    u.add_argument("--tracking-uri", default=None, help="default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db")
    u.add_argument("--experiment", default=None,
                   help="link this experiment's runs (default: the experiment of the latest training run)")
    u.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from ..workflows.ui import open_ui

    open_ui(args.tracking_uri, args.host, args.port, args.experiment)  # replaces this process with the server
    return 0  # not reached
