"""`stance train CONFIG`: train one config and track it (stance.workflows.training)."""
from __future__ import annotations

import argparse
import sys

from ..runtime.masking import mask


def add(sub) -> None:
    t = sub.add_parser("train", help="train a model from a YAML config and track it in MLflow")
    t.add_argument("config", help="configs/<name>.yaml")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set model.C=2.0 (repeatable)")
    t.add_argument("--resume", metavar="RUN_ID", default=None,
                   help="continue an interrupted run (same config) from its latest checkpoint, in the same MLflow run")
    t.set_defaults(fn=run)


def run(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..runtime.distributed import is_main_process
    from ..evaluation.summary import metrics_table
    from ..workflows.training import train

    cfg = load_config(args.config, args.set)
    try:
        result = train(cfg, resume_run_id=args.resume)
    except KeyboardInterrupt as e:
        # Claim KILLED only for a run that exists: a signal can land before any run was started.
        killed, run_id = getattr(e, "killed_run_id", None), getattr(e, "run_id", None)
        print(f"stance train: {e or 'interrupted'}; "
              + (f"the MLflow run {killed} is marked KILLED" if killed else "no MLflow run was started")
              + (f"; continue it with: stance train {args.config} --resume {run_id}" if run_id else ""),
              file=sys.stderr)
        return 130
    if not is_main_process():
        return 0  # under torchrun/accelerate rank 0 reports
    print(metrics_table({cfg.model.kind: result.metrics}))
    m = result.metrics
    for prefix in ("test", *(e.name for e in cfg.eval_sets)):
        if f"{prefix}_ece" in m:
            print(f"calibration on {prefix} ({cfg.model.calibration}, fitted on dev): ECE {m[f'{prefix}_ece_uncalibrated']:.3f}"
                  f" -> {m[f'{prefix}_ece']:.3f}, Brier {m[f'{prefix}_brier_uncalibrated']:.3f} -> {m[f'{prefix}_brier']:.3f}")
    from ..tracking.views import base_url, run_link

    print(f"run:   {result.run_id} in experiment {cfg.tracking.experiment!r} ({mask(result.tracking_uri)})")
    print(f"see it: `stance ui` (make ui), then {run_link(base_url('127.0.0.1', 5000), result.experiment_id, result.run_id)}")
    print(f"model: {result.model_ref}"
          + (f" (not registered: {result.not_registered})" if result.not_registered else ""))
    return 0
