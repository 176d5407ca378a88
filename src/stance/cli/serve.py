"""`stance serve`: a registered or logged model's scoring server, with limits (stance.workflows.serve)."""
from __future__ import annotations

import argparse


def _megabytes(value: str) -> float:
    try:
        mb = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of megabytes") from None
    if not 0 < mb <= 1024:
        raise argparse.ArgumentTypeError(f"{value} MB: give a size above 0 and at most 1024")
    return mb


def add(sub) -> None:
    from ..workflows.serve import DEFAULT_MAX_BODY_MB

    s = sub.add_parser("serve", help="MLflow's scoring server (POST /invocations) for one model, refusing bodies "
                                     "over a size limit, requests without a JSON/CSV Content-Type and over-nested "
                                     "JSON with one-line 413/415/400 answers")
    s.add_argument("-m", "--model", required=True, help="models:/NAME/latest, models:/NAME@ALIAS, runs:/ID/model "
                                                        "or a logged MLflow model folder")
    s.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    s.add_argument("--port", type=int, default=5001)
    s.add_argument("--max-body-mb", type=_megabytes, default=DEFAULT_MAX_BODY_MB,
                   help=f"largest request body accepted (default {DEFAULT_MAX_BODY_MB:g})")
    s.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from ..workflows.serve import serve

    serve(args.model, args.host, args.port, args.max_body_mb)
    return 0
