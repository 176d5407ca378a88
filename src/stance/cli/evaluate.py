"""`stance evaluate`: score tracked models on a labelled file (stance.workflows.evaluate)."""
from __future__ import annotations

import argparse

from .options import INFERENCE_PATHS


def add(sub) -> None:
    e = sub.add_parser("evaluate", help="score a tracked model on a labelled file")
    e.add_argument("--model", required=True, action="append",
                   help="models:/NAME/latest, runs:/RUN_ID/model or a local path; repeat it to compare models on "
                        "the same items (misclassified, disagreements and per-group tables in a comparison run)")
    e.add_argument("--data", required=True, help="labelled CSV/TSV/JSONL/Parquet file")
    e.add_argument("--name", default="eval", help="metric prefix (default: eval)")
    e.add_argument("--text-column", default="text", help="column holding the statement (default: %(default)s)")
    e.add_argument("--label-column", default="label",
                   help="column holding the gold label FAVOR/AGAINST/NONE (default: %(default)s)")
    e.add_argument("--target-column", default=None,
                   help="column holding each row's target (default: none; every row uses --target)")
    e.add_argument("--target", default=None, help="target for rows without one (default: the model's)")
    e.add_argument("--out", default="outputs/evaluate", help="folder for plots and predictions (each run's files in a folder named by its run id)")
    e.add_argument("--experiment", default="stance-evaluate", help="MLflow experiment for the evaluation run")
    e.add_argument("--inference", choices=INFERENCE_PATHS, default=None,
                   help="transformer prediction path to score (default: the one chosen and saved at training time)")
    e.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..config import EvalSetConfig
    from ..workflows.evaluate import evaluate_tracked
    from ..evaluation.summary import frame_markdown, group_tables_markdown, metrics_table

    spec = EvalSetConfig(name=args.name, path=args.data, text_column=args.text_column, label_column=args.label_column,
                         target_column=args.target_column, default_target=args.target, optional=False)
    result = evaluate_tracked(args.model, spec, Path(args.out), args.experiment, args.inference)
    print(metrics_table({n: ev.report.prefixed(args.name) for n, ev in result.evaluations.items()},
                        prefixes=(args.name,)))
    for name, ev in result.evaluations.items():
        m = ev.report.metrics
        print(f"\n{name}: ECE {m['ece']:.3f} (uncalibrated {m['ece_uncalibrated']:.3f}), "
              f"Brier {m['brier']:.3f} (uncalibrated {m['brier_uncalibrated']:.3f})")
        print("coverage (answer only when the top score >= min_confidence; stance predict --min-confidence):")
        print(frame_markdown(ev.tables[f"coverage_{args.name}"].set_index("min_confidence").round(3)))
        if len(result.evaluations) == 1:
            print("\n" + ev.report.text_report)
            if groups := group_tables_markdown(ev.tables):
                print(groups + "\n")
    named = {f"{t}_{args.name}": df for t, df in result.tables.items()}  # as logged to the comparison run
    if len(result.evaluations) > 1 and (groups := group_tables_markdown(named)):
        print("\n" + groups + "\n")  # per group, every model: one table each
    for name, run_id in result.run_ids.items():
        print(f"run:   {run_id} ({name}, experiment {args.experiment})")
    if result.comparison_run_id:
        t = result.tables
        print(f"comparison run: {result.comparison_run_id}: {len(t['disagreements'])} disagreements, "
              f"{len(t['misclassified'])} items wrong by at least one model (tables under errors/)")
    for name, folder in result.folders.items():
        print(f"files: {folder.resolve()} ({name})")
    return 0
