"""Wall time and peak memory of `stance train CONFIG` (default: the transformer on the bundled corpus).

    .venv/bin/python benchmarks/train_budget.py [configs/transformer.yaml] [--set KEY=VALUE ...]

Runs the real CLI in a child process, on a throwaway MLflow store, and prints one JSON line:
wall seconds, peak resident memory of the child (MB), the run's train time, saved model size (MB) and metrics.
The issue's budget: at most 300 s and under 3 GB on the 2-core CPU machine.
"""
from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> dict:
    config = argv[0] if argv and not argv[0].startswith("--") else "configs/transformer.yaml"
    extra = argv[1:] if argv and not argv[0].startswith("--") else argv
    with tempfile.TemporaryDirectory(prefix="stance-bench-") as tmp:
        env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp}/mlflow.db", "CI": "true",
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MLFLOW_DISABLE_TELEMETRY": "true"}
        cmd = [sys.executable, "-m", "stance.cli", "train", str(ROOT / config), "--set", f"output_dir={tmp}/outputs",
               "--set", "tracking.log_model=false", *extra]
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(proc.stderr[-3000:])
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux reports KiB
        import mlflow

        mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
        run = mlflow.search_runs(search_all_experiments=True, output_format="list")[0]
        m = run.data.metrics
    result = {
        "config": config, "overrides": extra, "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "wall_s": round(wall, 1), "peak_rss_mb": round(peak_mb), "train_time_s": round(m["train_time_s"], 1),
        "train_examples_per_s": round(m["train_examples_per_s"], 1), "model_size_mb": round(m["model_size_mb"], 1),
        **{k: round(v, 4) for k, v in m.items() if k.endswith(("macro_f1", "f_avg")) and not k.startswith("dev")},
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
