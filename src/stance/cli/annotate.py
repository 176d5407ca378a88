"""`stance annotate next|label|import|export|sample|agreement` (stance.workflows.annotate; formats: cli/exchange.py)."""
from __future__ import annotations

import argparse
import sys

from . import exchange
from .options import whole_number


def add(sub) -> None:
    from ..annotation.selection import DEFAULT_STRATEGY, STRATEGIES

    a = sub.add_parser("annotate", help="label your own statements: pick the next batch, label, import, agreement")
    asub = a.add_subparsers(dest="annotate_command", required=True)
    n = asub.add_parser("next", help="pick the next statements to label (the model's suggestion and scores beside)")
    n.add_argument("--pool", required=True, help="unlabelled statements (JSONL/CSV/Parquet with id and text)")
    n.add_argument("--model", required=True, help="models:/NAME/latest, runs:/RUN_ID/model or a local path")
    n.add_argument("--labels", default=None, help="label log (JSONL): statements labelled there are skipped")
    n.add_argument("-n", type=whole_number(1), default=50, help="how many (default 50)")
    n.add_argument("--strategy", choices=STRATEGIES, default=DEFAULT_STRATEGY,
                   help=f"uncertainty, margin, random, or diverse (uncertain AND spread over clusters); "
                        f"default {DEFAULT_STRATEGY}")
    n.add_argument("--out", default=None, help="write the batch to a new .csv or .jsonl file (never overwritten)")
    n.add_argument("--target", default=None, help="stance target (default: the model's training target)")
    n.add_argument("--seed", type=int, default=13)
    n.add_argument("--experiment", default="stance-annotation", help="MLflow experiment for the selection run")
    n.set_defaults(fn=_annotate_next)

    lab = asub.add_parser("label", help="label in the terminal, one key per answer; every answer saved at once")
    lab.add_argument("--pool", required=True, help="the statements (JSONL/CSV/Parquet with id and text)")
    lab.add_argument("--labels", required=True, help="label log to append to (created if missing)")
    lab.add_argument("--annotator", required=True, help="your name: answers are kept per annotator")
    lab.add_argument("--batch", default=None, help="label these ids in this order (from `annotate next`)")
    lab.add_argument("--model", default=None, help="suggest labels with this model (else the batch's suggestions)")
    lab.add_argument("--target", default=None)
    lab.add_argument("--no-suggestion", action="store_true",
                     help="hide the model's suggestion (use it when your labels measure agreement)")
    lab.add_argument("--adjudicate", action="store_true",
                     help="your answers settle disagreements (e.g. --batch disagreements.csv): they are marked "
                          "adjudicated and win over the other annotators' labels")
    lab.set_defaults(fn=_annotate_label)

    i = asub.add_parser("import", help="append a filled batch (CSV/JSONL with id, label, confidence) or a Label "
                                       "Studio/Prodigy/doccano export to a label log")
    i.add_argument("batch")
    i.add_argument("--labels", required=True, help="label log to append to")
    i.add_argument("--annotator", default=None, help="who labelled the batch (a tool's export names its own)")
    exchange.add_import_options(i)
    i.add_argument("--pool", default=None, help="check every id against this pool")
    i.add_argument("--experiment", default="stance-annotation")
    i.set_defaults(fn=_annotate_import)

    exchange.add_export(asub)
    _add_sample(asub)

    g = asub.add_parser("agreement", help="Cohen's kappa, per-label agreement, confusion, disagreements to adjudicate")
    g.add_argument("a", help="label log of annotator A")
    g.add_argument("b", help="label log of annotator B")
    g.add_argument("--a-name", default=None, help="only the answers of this annotator in A (for a shared file)")
    g.add_argument("--b-name", default=None, help="only the answers of this annotator in B")
    g.add_argument("--adjudicated", default=None, help="label log with the adjudicated labels (scores A and B on it)")
    g.add_argument("--out", default=None, help="write the disagreements to this new .csv file, to adjudicate")
    g.set_defaults(fn=_annotate_agreement)


def _add_sample(asub) -> None:
    s = asub.add_parser("sample", help="draw a random (or stratified) sample to label, so `stance measure` gives "
                                       "valid intervals; writes the batch and its manifest")
    s.add_argument("--data", required=True, help="the statements to measure (JSONL/CSV/Parquet with id and text)")
    s.add_argument("--n", type=whole_number(2), required=True, help="how many statements to label")
    s.add_argument("--stratify-by", default=None, help="column to stratify by (proportional, at least 2 each)")
    s.add_argument("--seed", type=int, required=True, help="the random seed (recorded in the manifest)")
    s.add_argument("--out", required=True, help="new .csv or .jsonl batch file; the manifest goes beside it")
    s.add_argument("--experiment", default="stance-annotation")
    s.set_defaults(fn=_annotate_sample)


def _annotate_sample(args: argparse.Namespace) -> int:
    from ..workflows.annotate import sample_batch

    b = sample_batch(args.data, args.n, args.out, args.seed, args.stratify_by, experiment=args.experiment)
    print(f"wrote a {b.manifest['design']} sample of {len(b.frame)} of {b.manifest['population']} statements to "
          f"{b.path} and its manifest to {b.manifest_path}; label it (`stance annotate label --pool {args.data} "
          f"--batch {b.path} ...` or fill in and `stance annotate import`), then `stance measure ... --labels "
          f"LABELS.jsonl --sample {b.manifest_path}`")
    print(f"run: {b.run_id} (experiment {args.experiment})", file=sys.stderr)
    return 0


def _annotate_next(args: argparse.Namespace) -> int:
    from ..workflows.annotate import next_batch
    from ..evaluation.summary import frame_markdown

    batch = next_batch(args.pool, args.model, args.labels, n=args.n, strategy=args.strategy, out=args.out,
                       target=args.target, seed=args.seed, experiment=args.experiment)
    shown = batch.frame.drop(columns=["label", "confidence"]).copy()
    shown["text"] = shown["text"].str.slice(0, 70)
    if args.out is None:
        print(shown.to_csv(index=False) if not sys.stdout.isatty() else frame_markdown(shown.set_index("id")))
    else:
        print(f"wrote {len(batch.frame)} of {batch.n_candidates} unlabelled statements ({args.strategy}) to "
              f"{args.out}: fill in label (FAVOR/AGAINST/NONE) and confidence (1-3), then "
              f"`stance annotate import {args.out} --labels {args.labels or 'LABELS.jsonl'} --annotator NAME`")
    print(f"run: {batch.run_id} (experiment {args.experiment})", file=sys.stderr)
    return 0


def _annotate_label(args: argparse.Namespace) -> int:
    from ..workflows.annotate import session_items
    from ..annotation.session import run_session
    from ..data.labels import LabelLog

    items, version = session_items(args.pool, args.labels, args.annotator, batch=args.batch, model=args.model,
                                   target=args.target)
    if not items:
        print(f"nothing to label: every statement is already labelled by {args.annotator} in {args.labels}")
        return 0
    with LabelLog(args.labels, args.annotator, model_version=version) as log:
        result = run_session(items, log, show_suggestion=not args.no_suggestion, adjudicate=args.adjudicate)
    print(f"{result.answered} answered, {result.skipped} skipped, {result.undone} undone; saved in {args.labels}")
    return 0


def _annotate_import(args: argparse.Namespace) -> int:
    from ..workflows.annotate import import_batch

    if exchange.is_tool_export(args):
        return exchange.run_import(args)
    if args.annotator is None:
        raise ValueError("name the annotator of a filled batch with --annotator")
    r = import_batch(args.batch, args.labels, args.annotator, pool=args.pool, experiment=args.experiment)
    counts = ", ".join(f"{k} {v}" for k, v in r.counts.items())
    print(f"added {r.added} answers by {args.annotator} to {args.labels} ({counts}); {r.unchanged} already there, "
          f"{r.blank} rows without a label left for later")
    print(f"run: {r.run_id} (experiment {args.experiment})", file=sys.stderr)
    return 0


def _annotate_agreement(args: argparse.Namespace) -> int:
    from ..workflows.annotate import agreement_report

    print(agreement_report(args.a, args.b, a_name=args.a_name, b_name=args.b_name, adjudicated=args.adjudicated,
                           out=args.out))
    return 0
