"""Command line: `main` parses the arguments and dispatches to one module per command (cli/<command>.py), each of
which parses its own options and calls the library (stance.workflows, stance.prediction).

Each command imports what it needs when it runs: `stance --help` and a TF-IDF `stance predict` never pay
for torch, MLflow or scikit-learn they do not use (tests/test_cold_start.py holds this).
"""
from __future__ import annotations

import argparse
import os
import sys

from ..errors import ConfigError, DataError
from ..runtime.console import VERBOSE
from ..runtime.masking import mask
from . import (annotate, compare, demo, evaluate, experiment, explain, fetch_encoder, measure, predict, promote, serve,
               train, ui)
from .options import Subcommands, debug_option

# In the order `stance --help` lists them.
COMMANDS = (train, evaluate, predict, explain, experiment, compare, demo, promote, serve, ui, annotate, measure,
            fetch_encoder)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stance", description="Stance detection (FAVOR / AGAINST / NONE) tracked in MLflow.",
                                parents=[debug_option()])
    p.register("action", "parsers", Subcommands)
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add(sub)
    return p


def _one_line(text: str) -> str:
    """An error as one line: multi-line messages (MLflow's, pydantic's) are joined, not cut."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.whole_process = argv is None  # run as the `stance` program (arguments from sys.argv), not called in-process
    if getattr(args, "verbose", False):
        os.environ[VERBOSE] = "1"  # read where third-party output is quieted (stance.runtime.console.verbose)
    if getattr(args, "debug", False):
        return args.fn(args)  # --debug: the full traceback, for a bug report
    try:
        return args.fn(args)
    except (ConfigError, DataError) as e:
        print(f"stance {args.command}: {mask(e)}", file=sys.stderr)  # one line per bad row or key, by design
        return 2
    except (FileNotFoundError, FileExistsError, ValueError, RuntimeError) as e:
        print(f"stance {args.command}: {type(e).__name__}: {mask(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"stance {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001  # anything else (MLflow, torch, ...) is one line too
        print(f"stance {args.command}: {type(e).__name__}: {mask(_one_line(e))} (run with --debug for the traceback)",
              file=sys.stderr)
        return 1

