"""Issue 17 items 12 (store creation) and 13: real processes at once on one store and on one run."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import mlflow

from conftest import ROOT

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


def train_cmd(corpus) -> list[str]:
    # A grid over C makes fitting take seconds: long enough to freeze the trainer mid-fit, between store writes.
    return [sys.executable, "-m", "stance.cli", "train", str(ROOT / "configs" / "baseline.yaml"),
            "--set", f"data.path={corpus}", "--set", "data.exclude=null", "--set", "eval_sets=[]",
            "--set", "model.grid_C=[0.25, 0.5, 1, 2, 4]"]


def test_resume_of_a_run_another_process_is_training_fails_at_once(tiny_corpus, tmp_path, tracking_uri):
    first = subprocess.Popen(train_cmd(tiny_corpus), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        for line in first.stderr:
            if "training tfidf" in line:
                run_id = line.split("(run ")[1].rstrip(")\n")
                break
        else:
            raise AssertionError(f"the first trainer did not start (exit {first.wait()})")
        first.send_signal(signal.SIGSTOP)  # still training this run, holding its folder
        start = time.perf_counter()
        second = subprocess.run(train_cmd(tiny_corpus) + ["--resume", run_id], cwd=tmp_path, capture_output=True,
                                text=True, timeout=120)
        assert second.returncode == 1, second.stderr[-3000:]
        assert (f"stance train: RunBusyError: run {run_id} is being trained by another process right now"
                in second.stderr)
        assert time.perf_counter() - start < 30  # at once: start-up and the resume check, no waiting
        assert mlflow.get_run(run_id).info.status == "RUNNING"  # the refused resume left the run alone
    finally:
        first.send_signal(signal.SIGCONT)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-3000:]
    assert mlflow.get_run(run_id).info.status == "FINISHED"
