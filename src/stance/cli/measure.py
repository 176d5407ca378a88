"""`stance measure`: each label's share per group and period, with 95% intervals (stance.workflows.measure)."""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

from .options import whole_number

SHOWN = ("cc", "adjusted", "ppi", "classical")


def add(sub) -> None:
    p = sub.add_parser("measure", help="share of FAVOR / AGAINST / NONE per group and period, with 95%% intervals")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="statements to score (JSONL/CSV/Parquet with id, text and the group columns)")
    src.add_argument("--predictions", help="already scored statements (stance predict / Spark output with one "
                                           "score column per label, id and the group columns): not rescored")
    p.add_argument("--model", default=None, help="models:/NAME/latest, runs:/ID/model or a folder (with --data; "
                                                 "with --predictions, only for its dev confusion)")
    p.add_argument("--by", default=None, help="group column(s), comma-separated, e.g. party or party,source")
    p.add_argument("--time", default=None, help="date column: shares per period")
    p.add_argument("--freq", choices=("year", "quarter", "month"), default="month")
    p.add_argument("--labels", default=None, help="label log (JSONL) with hand labels for a random sample of the "
                                                  "statements: adds ppi and classical")
    p.add_argument("--sample", default=None, help="the sample's manifest from `stance annotate sample` (default: "
                                                  "the one beside the batch the labels came from)")
    p.add_argument("--dev", default=None, help="the model's dev predictions (label and p_<label> columns; default: "
                                               "the training run's eval/predictions_dev.csv)")
    p.add_argument("--output", default=None, help="write the table to a new .csv or .parquet file")
    p.add_argument("--plot", default=None, help="also save the figure to this new .png file")
    p.add_argument("--json", action="store_true", help="JSON lines, one per group, period, label and method")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--bootstrap", type=whole_number(20), default=200, help="bootstrap draws for adjusted (200)")
    p.add_argument("--experiment", default="stance-measurement")
    p.set_defaults(fn=run)


def _cell(row) -> str:
    if row is None or math.isnan(row["estimate"]):
        return "-"
    ci = "" if math.isnan(row["ci_low"]) else f" [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"
    return f"{row['estimate']:.3f}{ci}"


def aligned(table) -> str:
    """One line per group, period and label; a column per method (cc marked biased), the notes after."""
    header = ["group", "period", "label", "n", "labelled", "cc (biased)", "adjusted", "ppi", "classical"]
    lines, notes = [], {}
    for (g, p, lab), part in table.groupby(["group", "period", "label"], sort=False, dropna=False):
        by = {r["method"]: r for r in part.to_dict("records")}
        first = part.iloc[0]
        lines.append([g, "" if p is None or p != p else str(p), lab, f"{first['n']:,}", str(first["n_labelled"]),
                      *[_cell(by.get(m)) for m in SHOWN]])
        for r in by.values():
            if r["note"] and r["method"] != "cc":
                notes.setdefault(f"{r['method']}: {r['note']}", None)
    widths = [max(len(x[i]) for x in [header, *lines]) for i in range(len(header))]
    out = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *lines]]
    return "\n".join(out + [f"note: {n}" for n in notes])


def run(args: argparse.Namespace) -> int:
    from ..workflows.measure import measure, save_plot, write_table

    if args.data is not None and args.model is None:
        raise ValueError("--data needs --model to score the statements (or give --predictions)")
    for path in (args.output, args.plot):  # before the work, not after it
        if path is not None and os.path.exists(path):
            raise FileExistsError(f"{path} already exists (existing files are never overwritten)")
    result = measure(args.data, model=args.model, predictions=args.predictions, by=args.by, time=args.time,
                     freq=args.freq, labels=args.labels, sample=args.sample, dev=args.dev, seed=args.seed,
                     reps=args.bootstrap, experiment=args.experiment)
    if args.output:
        write_table(result.table, args.output)
    if args.plot:
        save_plot(result.plot, args.plot)
    if args.json or not sys.stdout.isatty():
        cols = ["group", "period", "label", "method", "estimate", "ci_low", "ci_high", "n", "n_labelled", "note"]
        for r in result.table[cols].to_dict("records"):
            print(json.dumps({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}))
    else:
        print(aligned(result.table))
    print(f"run: {result.run_id} (experiment {args.experiment})", file=sys.stderr)
    return 0
