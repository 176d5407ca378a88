"""`stance annotate export` and the tool formats of `stance annotate import` (stance.workflows.exchange): kept
apart from cli/annotate.py, which adds them to its subcommands."""
from __future__ import annotations

import argparse
import sys

FORMAT_NAMES = ("label-studio", "prodigy", "doccano")  # stance.annotation.formats.FORMATS, not imported for --help


def add_export(asub) -> None:
    e = asub.add_parser("export", help="statements with the model's suggestions as tasks for Label Studio, Prodigy "
                                       "or doccano")
    e.add_argument("--format", choices=FORMAT_NAMES, default="label-studio")
    e.add_argument("--data", required=True, help="the statements (a pool: JSONL/CSV/Parquet with id and text)")
    e.add_argument("--ids", default=None, help="only these statements, in this order: a batch from `annotate next`")
    e.add_argument("--model", required=True, help="suggests a label for each task: models:/NAME/latest, ... or a path")
    e.add_argument("--output", required=True, help="the new tasks file (.json for Label Studio, .jsonl otherwise)")
    e.add_argument("--config-output", default=None, help="Label Studio: write the labelling config here (.xml)")
    e.add_argument("--target", default=None, help="stance target (default: the pool's target column, else the "
                                                  "model's training target)")
    e.set_defaults(fn=run_export)


def add_import_options(i) -> None:
    i.add_argument("--format", choices=("batch", *FORMAT_NAMES), default=None,
                   help="what the file is (default: told from its content: a tool's export, else a filled batch)")
    i.add_argument("--users", default=None, help="Label Studio: a saved `GET /api/users/` answer, to name "
                                                 "annotators by email where the export gives user numbers")


def run_export(args: argparse.Namespace) -> int:
    from ..workflows.exchange import export_tasks

    r = export_tasks(args.data, args.model, args.output, fmt=args.format, ids=args.ids,
                     config_output=args.config_output, target=args.target)
    shown = ", ".join(f"{k} {v}" for k, v in sorted(r.suggested.items()))
    print(f"wrote {r.tasks} {args.format} tasks to {r.path} (suggested by {r.model_version}: {shown})"
          + (f" and the labelling config to {r.config_path}" if r.config_path else ""))
    return 0


def is_tool_export(args: argparse.Namespace) -> bool:
    """Whether `annotate import` reads a tool's export (else a filled batch of one annotator)."""
    from pathlib import Path

    if args.format is not None:
        return args.format != "batch"
    from ..annotation.formats import detect

    return Path(args.batch).is_file() and detect(Path(args.batch)) is not None


def run_import(args: argparse.Namespace) -> int:
    from ..workflows.exchange import import_export

    r = import_export(args.batch, args.labels, fmt=args.format, pool=args.pool, annotator=args.annotator,
                      users=args.users, experiment=args.experiment)
    added = ", ".join(f"{who} {n}" for who, n in sorted(r.added.items())) or "none"
    print(f"{r.format}: added {sum(r.added.values())} answers to {args.labels} ({added}); {r.unchanged} already "
          f"there, {r.repeated} repeated in the export, {r.unlabelled} tasks not annotated yet, "
          f"{len(r.skipped)} skipped")
    for line in r.skipped:
        print(f"  skipped: {line}")
    print(f"run: {r.run_id} (experiment {args.experiment})", file=sys.stderr)
    return 0
