"""`stance compare`: tracked runs side by side (stance.workflows.compare)."""
from __future__ import annotations

import argparse

from .options import whole_number


def add(sub) -> None:
    c = sub.add_parser("compare", help="side-by-side table of tracked runs: one row per config (mean ± std over its "
                                       "seeds), the headline metric first, a bootstrap CI for the best two")
    src = c.add_mutually_exclusive_group(required=True)
    src.add_argument("--experiment", help="an MLflow experiment name")
    src.add_argument("--parent", help="a parent run id (from stance experiment); the report is logged to it")
    src.add_argument("--runs", nargs="+", help="run ids")
    c.add_argument("--metric", default="headline",
                   help="ranks groups and is tested by the bootstrap (default: headline, the first evaluation set of "
                        "real statements, e.g. test_realpool_macro_f1; or any logged metric such as realdev_macro_f1)")
    c.add_argument("--resamples", type=whole_number(1), default=2000,
                   help="paired bootstrap resamples of the test statements for the 95%% CI (default 2000)")
    c.add_argument("--out", default="outputs/compare", help="folder for comparison.md/.json/.png")
    c.add_argument("--no-run", action="store_true",
                   help="do not log the comparison as a run of its own beside the compared runs (by default it is: "
                        "its page in the MLflow UI names the winner and the difference; stance ui links it first)")
    c.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..workflows.compare import compare_runs
    from ..evaluation.summary import group_tables_markdown
    from ..runtime.spreadsheet import write_frame

    report = compare_runs(args.experiment, args.parent, args.runs, metric=args.metric, n_resamples=args.resamples)
    print(report.markdown)
    if groups := group_tables_markdown(report.error_tables):
        print("\n" + groups)
    files = report.write(Path(args.out))
    lists = {n: df for n, df in report.error_tables.items() if n.startswith(("misclassified_", "disagreements_"))}
    if lists:
        (Path(args.out) / "errors").mkdir(exist_ok=True)
        print()
    for name, df in lists.items():  # item lists: too long for a terminal, so a file each
        path = Path(args.out) / "errors" / f"{name}.csv"
        write_frame(df, path)
        print(f"{name}: {len(df)} statements ({path})")
    if args.parent:
        report.log_to(args.parent)
    print("\nwrote " + ", ".join(str(f) for f in files) + (f"; logged to run {args.parent}" if args.parent else ""))
    if not args.no_run and not args.parent:
        run_id = report.log_run()
        print(f"comparison run {run_id} in experiment {report.experiment!r}: {report.headline_sentence()} "
              f"(stance ui links it first)")
    return 0
