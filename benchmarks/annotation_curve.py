"""Label N of your own statements, gain X: the annotation curve, simulated on real statements.

    .venv/bin/python benchmarks/annotation_curve.py [configs/baseline.yaml] [--user FILE] [--folds 5]
        [--sizes 25 50 100 200] [--strategies uncertainty margin random diverse] [--user-weight W]

The "user" is ../shared/realdev (303 real statements labelled toward the target; its path can be given
with --user): this benchmark is the one place where realdev labels are trained on, by held-out folds, and
nothing it trains is registered. The model starts from CONFIG's training data (the corpus and the labelled
pool, without realdev), then labels 25, 50, 100, 200 statements of the other folds chosen by each strategy,
retraining after each batch (stance.annotation.curve). Prints a table (mean, std, min, max of macro-F1
over folds) and logs it with a plot to the MLflow experiment `stance-annotation-curve`.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from stance import tracking  # noqa: E402
from stance.annotation.curve import curve_png, simulate  # noqa: E402
from stance.annotation.selection import STRATEGIES  # noqa: E402
from stance.config import load_config  # noqa: E402
from stance.data import load_data, load_eval_set  # noqa: E402
from stance.evaluation.summary import frame_markdown  # noqa: E402


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("config", nargs="?", default=str(ROOT / "configs" / "baseline.yaml"))
    ap.add_argument("--user", default=None, help="the simulated user's labelled statements (default: realdev)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100, 200])
    ap.add_argument("--strategies", nargs="+", choices=STRATEGIES, default=list(STRATEGIES))
    ap.add_argument("--user-weight", type=float, default=5.0,
                    help="training weight of the user's labels (default 5: 25 labels among ~5,700 training rows otherwise move nothing)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args(argv)
    # No calibration: labels are what is scored, and a calibrator would be fitted 80 times for nothing.
    cfg = load_config(args.config, ["model.calibration=none", *args.set])
    spec = cfg.eval_sets[0] if not args.user else cfg.eval_sets[0].model_copy(update={"path": args.user})
    user = load_eval_set(spec.model_copy(update={"optional": False}), cfg.data.labels)
    data = load_data(cfg.data, cfg.seed)
    start = time.perf_counter()
    result = simulate(cfg, data.train, data.dev, user, sizes=args.sizes, strategies=args.strategies,
                      folds=args.folds, user_weight=args.user_weight,
                      report=lambda m: print(m, file=sys.stderr, flush=True))
    wall = time.perf_counter() - start
    table = result.summary.pivot(index="n_labelled", columns="strategy", values="mean")[args.strategies]
    spread = result.summary.pivot(index="n_labelled", columns="strategy", values="std")[args.strategies]
    shown = table.round(3).astype(str) + " ± " + spread.fillna(0).round(3).astype(str)
    print(f"\n{cfg.model.kind} trained on {data.name} ({len(data.train)} statements), then N of the simulated "
          f"user's {len(user)} statements ({spec.path}), {args.folds} folds; macro-F1 on the held-out fold, "
          f"mean ± std over folds ({wall:.0f} s)\n")
    print(frame_markdown(shown))
    with tempfile.TemporaryDirectory() as tmp, \
            tracking.run("stance-annotation-curve", tags={"run_type": "annotation_curve"},
                         run_name=f"annotation curve {cfg.model.kind} ({args.folds} folds)") as active:
        tracking.log_params({"config": args.config, "user": spec.path, "folds": args.folds, "sizes": args.sizes,
                             "strategies": args.strategies, "user_weight": args.user_weight})
        tracking.log_metrics({f"curve_{r.strategy}_{r.n_labelled}_macro_f1": r["mean"]
                              for _, r in result.summary.iterrows()})
        tracking.log_tables({"annotation_curve": result.summary, "annotation_curve_folds": result.scores}, "curve")
        png = curve_png(result.summary, Path(tmp) / "annotation_curve.png",
                        f"{cfg.model.kind}: labelling your own statements")
        tracking.log_artifact(png, "curve")
        print(f"\nrun {active.info.run_id} (experiment stance-annotation-curve)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
