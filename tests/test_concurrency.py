"""Issue 17 item 12 (store creation): real processes at once on one store."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import mlflow

# Imports first (seconds), says it is ready, then waits for the start file: both create the store at one moment.
WORKER = """
import os, sys, time
from pathlib import Path
from stance import tracking
Path(sys.argv[2] + "." + sys.argv[3]).touch()
while not os.path.exists(sys.argv[2]):
    time.sleep(0.002)
with tracking.run("race", uri=sys.argv[1]) as run:
    tracking.log_params({"worker": sys.argv[3]})
print(run.info.run_id)
"""


def test_two_processes_creating_a_fresh_sqlite_store_at_once_both_log(tmp_path):
    uri, go = f"sqlite:///{tmp_path / 'fresh' / 'mlflow.db'}", tmp_path / "go"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, uri, str(go), name], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    deadline = time.time() + 120
    while not all((tmp_path / f"go.{name}").exists() for name in ("a", "b")):
        assert time.time() < deadline and all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.05)
    go.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]  # was: "duplicate column name: step" from MLflow's migration
    client = mlflow.MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("race").experiment_id])
    assert sorted(r.data.params["worker"] for r in runs) == ["a", "b"]
    assert {r.info.run_id for r in runs} == {out.strip() for out, _ in outs}
