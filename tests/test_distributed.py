"""The transformer trainer under `torchrun` and `accelerate launch` (DDP, 2 CPU processes, gloo), unchanged.

Each launch trains the real config, shrunk, in a child process group against its own MLflow store; a
single-process run with the same seed and the same global batch is the reference. Only rank 0 may create
the MLflow run, log, register and write outputs.

Why losses and probabilities, not macro-F1, are compared: the tiny test split has 6 statements, so one flipped
label moves macro-F1 by 0.1 or more. With the whole training split as one global batch (1 x 24 vs 2 ranks x 12),
no class weights and no warmup, DDP's averaged gradient is the single process's gradient up to dropout masks
(drawn per process) and float summation order. Measured here: at identical initial weights the first-step
train loss already differs by 0.006 (dropout alone); after 3 steps per-epoch losses differ by at most 0.03
and test probabilities by at most 0.03. Hence LOSS_TOL = PROBA_TOL = 0.05. A real DDP error is far larger:
before `average_tokens_across_devices=False`, transformers doubled the loss under 2 ranks (2.19 vs 1.10).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from conftest import ROOT, tiny_rows, write_jsonl

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
LOSS_TOL = 0.05
PROBA_TOL = 0.05
# Shrunk and made deterministic enough to compare: CPU, fp32, no class weights/warmup/length grouping, 1 thread.
SETS = ["data.path=tiny.jsonl", "data.exclude=null", "eval_sets=[]", "model.epochs=3", "model.max_length=48",
        "model.early_stopping_patience=null", "model.precision=fp32", "model.warmup_ratio=0",
        "model.class_weight=null", "model.group_by_length=false", "model.num_threads=1",
        "model.learning_rate=3e-4", "model.device=cpu"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(workdir: Path, launcher: list[str], batch_size: int) -> tuple[str, str]:
    """Train in `workdir` with its own sqlite store; returns (store uri, stdout)."""
    workdir.mkdir()
    write_jsonl(workdir / "tiny.jsonl", tiny_rows())
    uri = f"sqlite:///{workdir / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    sets = [a for s in [*SETS, f"model.batch_size={batch_size}"] for a in ("--set", s)]
    cmd = [*launcher, "-m", "stance.cli", "train", str(ROOT / "configs" / "transformer.yaml"), *sets]
    out = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, f"{' '.join(launcher)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-5000:]}"
    return uri, out.stdout


def _launchers() -> dict[str, list[str]]:
    torchrun = [str(BIN / "torchrun")] if (BIN / "torchrun").exists() else [sys.executable, "-m", "torch.distributed.run"]
    accelerate = str(BIN / "accelerate") if (BIN / "accelerate").exists() else shutil.which("accelerate")
    return {
        "torchrun": [*torchrun, "--nproc_per_node=2", "--master_addr=127.0.0.1", f"--master_port={_free_port()}"],
        # --multi_gpu is accelerate's DDP launcher; on a machine without GPUs it runs CPU processes over gloo.
        "accelerate": [accelerate, "launch", "--multi_gpu", "--num_processes=2", "--num_machines=1",
                       "--mixed_precision=no", "--dynamo_backend=no", f"--main_process_port={_free_port()}"],
    }


def _summary(uri: str) -> dict:
    client = mlflow.MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("stance-immigration")
    runs = client.search_runs([exp.experiment_id])
    versions = client.search_model_versions("name='stance-transformer'")
    run = runs[0]
    hist = {m: [h.value for h in sorted(client.get_metric_history(run.info.run_id, m), key=lambda h: h.step)]
            for m in ("epoch_dev_loss", "epoch_train_loss")}
    preds = pd.read_csv(client.download_artifacts(run.info.run_id, "eval/predictions_test.csv"))
    return {"runs": runs, "versions": versions, "run": run, "hist": hist, "preds": preds}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    single_uri, _ = _launch(tmp / "single", [sys.executable], batch_size=24)
    out = {"single": (_summary(single_uri), tmp / "single", "")}
    for name, launcher in _launchers().items():
        uri, stdout = _launch(tmp / name, launcher, batch_size=12)  # 2 ranks x 12 = the single run's 24
        out[name] = (_summary(uri), tmp / name, stdout)
    return out


@pytest.mark.parametrize("launcher", ["torchrun", "accelerate"])
def test_ddp_run_is_logged_once_by_rank_zero_and_registered_once(runs, launcher):
    got, workdir, stdout = runs[launcher]
    assert len(got["runs"]) == 1, "a rank other than 0 created an MLflow run"
    run = got["run"]
    assert run.info.status == "FINISHED"
    assert run.data.params["fit.world_size"] == "2"
    assert run.data.params["model.batch_size"] == "12"
    assert [(str(v.version), v.run_id) for v in got["versions"]] == [("1", run.info.run_id)]
    # One value per epoch: rank 1's callback did not log a second copy.
    assert len(got["hist"]["epoch_dev_loss"]) == 3 and len(got["hist"]["epoch_train_loss"]) == 3
    assert [p.name for p in (workdir / "outputs").iterdir()] == [run.info.run_id]
    assert not (workdir / "outputs" / run.info.run_id / "checkpoints").exists()
    assert stdout.count("run:   ") == 1, "the summary must be printed by rank 0 only"


@pytest.mark.parametrize("launcher", ["torchrun", "accelerate"])
def test_ddp_metrics_match_a_single_process_run_with_the_same_seed(runs, launcher):
    single, ddp = runs["single"][0], runs[launcher][0]
    assert single["run"].data.params["fit.world_size"] == "1"
    for run in (single, ddp):  # both really learn: dev loss falls every epoch
        dev = run["hist"]["epoch_dev_loss"]
        assert dev == sorted(dev, reverse=True) and dev[0] - dev[-1] > 0.02, dev
    for metric in ("epoch_dev_loss", "epoch_train_loss"):
        diffs = [abs(a - b) for a, b in zip(single["hist"][metric], ddp["hist"][metric])]
        assert max(diffs) < LOSS_TOL, f"{metric}: single {single['hist'][metric]} vs {launcher} {ddp['hist'][metric]}"
    cols = ["p_favor", "p_against", "p_none"]
    a, b = single["preds"].sort_values("where"), ddp["preds"].sort_values("where")
    assert list(a["where"]) == list(b["where"])
    assert (a[cols].to_numpy() - b[cols].to_numpy()).__abs__().max() < PROBA_TOL
