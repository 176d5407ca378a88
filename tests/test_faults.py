"""Faults: Ctrl-C/SIGTERM mid fine-tune ends the run KILLED with a checkpoint, `--resume` finishes it in the
same MLflow run with the same metrics; same seed, same metrics; unreachable or unwritable stores fail fast."""
import json
import os
import signal
import subprocess
import sys
import time

import mlflow
import pytest

from conftest import ROOT, private_store, shrunk_config, tiny_rows, write_jsonl
from stance.workflows.training import train

# Long enough (12 steps, a checkpoint per epoch) that the signal lands mid-training. One fixed inference
# path: `auto` picks the fastest path by timing it, so two identical runs on a busy machine may score with
# different paths (other probabilities, other metadata), which is not what these tests are about.
TINY = dict(epochs=4, batch_size=8, max_length=40, early_stopping_patience=None, inference="fp32")
TIMING = {"train_time_s", "train_examples_per_s"}


def overrides(corpus) -> list[str]:
    return [f"data.path={corpus}", "data.exclude=null", "eval_sets=[]"] + \
           [f"model.{k}={json.dumps(v)}" for k, v in TINY.items()]


def scores(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k not in TIMING}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults")
    with private_store(tmp):
        yield tmp, write_jsonl(tmp / "tiny.jsonl", tiny_rows())


@pytest.fixture(scope="module")
def uninterrupted(store):
    _, corpus = store
    return train(shrunk_config("transformer.yaml", corpus, **TINY))


@pytest.mark.slow
def test_same_seed_same_transformer_metrics(store, uninterrupted):
    _, corpus = store
    again = train(shrunk_config("transformer.yaml", corpus, **TINY))
    assert scores(again.metrics) == scores(uninterrupted.metrics)
    tags = [mlflow.get_run(r.run_id).data.tags for r in (uninterrupted, again)]
    assert tags[0]["dataset_digest"] == tags[1]["dataset_digest"] != ""
    assert len(tags[0]["git_commit"]) == 40 or tags[0]["git_commit"] == "unknown"


@pytest.mark.slow
def test_sigterm_kills_run_keeps_checkpoint_and_resume_matches(store, uninterrupted):
    tmp, corpus = store
    cmd = [sys.executable, "-m", "stance.cli", "train", str(ROOT / "configs" / "transformer.yaml")]
    for o in overrides(corpus):
        cmd += ["--set", o]
    proc = subprocess.Popen(cmd, cwd=tmp, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "training transformer" in line:
            run_id = line.split("(run ")[1].rstrip(")\n")
            break
    first = tmp / "outputs" / run_id / "checkpoints" / "checkpoint-3"
    deadline = time.time() + 300
    while not first.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)  # the end of epoch 1: stop it mid-training, like a scheduler would
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert f"--resume {run_id}" in err
    assert mlflow.get_run(run_id).info.status == "KILLED"
    step = int(err.split("checkpoint at step ")[1].split()[0])
    assert 3 <= step < 12  # stopped before the end
    checkpoints = sorted((tmp / "outputs" / run_id / "checkpoints").glob("checkpoint-*"),
                         key=lambda p: int(p.name.split("-")[1]))
    assert checkpoints[-1].name == f"checkpoint-{step}"  # the latest checkpoint is kept

    resumed = subprocess.run(cmd + ["--resume", run_id], cwd=tmp, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming transformer on 24 statements (run {run_id})" in resumed.stderr
    run = mlflow.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["fit.resumed_from"].endswith(checkpoints[-1].name)
    expected = scores(uninterrupted.metrics)  # test/dev metrics of the run (epoch curves differ in bookkeeping)
    assert {k: run.data.metrics[k] for k in expected} == pytest.approx(expected, abs=1e-6)
    assert not (tmp / "outputs" / run_id / "checkpoints").exists()  # removed once the run finished


def test_resume_refuses_finished_run_and_changed_config(tiny_corpus, tracking_uri):
    from stance.config import ConfigError

    done = train(shrunk_config("baseline.yaml", tiny_corpus))
    with pytest.raises(ConfigError, match=f"--resume {done.run_id}: the run already FINISHED"):
        train(shrunk_config("baseline.yaml", tiny_corpus), resume_run_id=done.run_id)
    with pytest.raises(ConfigError, match="--resume nope: no such run"):
        train(shrunk_config("baseline.yaml", tiny_corpus), resume_run_id="nope")
    mlflow.MlflowClient().set_terminated(done.run_id, status="KILLED")
    with pytest.raises(ConfigError, match=r"differs from the run's at \['model.C'\]"):
        train(shrunk_config("baseline.yaml", tiny_corpus, C=3.0), resume_run_id=done.run_id)


def test_same_seed_same_tfidf_metrics(tiny_corpus, tracking_uri):
    a, b = (train(shrunk_config("baseline.yaml", tiny_corpus)) for _ in range(2))
    assert scores(a.metrics) == scores(b.metrics) and a.run_id != b.run_id
    assert {mlflow.get_run(r.run_id).data.tags["dataset_digest"] for r in (a, b)} == {"b10cd14c7d4f9a7f"}


def test_unreachable_tracking_server_fails_within_seconds(tiny_corpus, tracking_uri, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
    start = time.perf_counter()
    with pytest.raises(Exception) as e:
        train(shrunk_config("baseline.yaml", tiny_corpus))
    assert time.perf_counter() - start < 10  # not minutes of retries
    assert f"MLflow tracking server http://127.0.0.1:{port} is unreachable" in str(e.value)


def test_unwritable_artifact_root_fails_before_training_and_marks_run_failed(tiny_corpus, tracking_uri, tmp_path):
    from stance.tracking import TrackingError

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the artifact folder should be")
    mlflow.create_experiment("blocked", artifact_location=str(blocker / "artifacts"))
    cfg = shrunk_config("baseline.yaml", tiny_corpus, extra=("tracking.experiment=blocked",))
    with pytest.raises(TrackingError, match=r"cannot write artifacts to .*not-a-dir/artifacts/.*: Not a directory"):
        train(cfg)
    run = mlflow.search_runs(experiment_names=["blocked"], output_format="list")[0]
    assert run.info.status == "FAILED"
    assert "train_time_s" not in run.data.metrics  # it failed before training, not after


def test_full_disk_marks_run_failed_with_clear_error(tiny_corpus, tracking_uri, monkeypatch):
    """Filling a real disk is not possible here: the artifact write raises ENOSPC as a full disk would."""
    import errno

    from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

    from stance.tracking import TrackingError

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(LocalArtifactRepository, "log_artifact", full)
    with pytest.raises(TrackingError, match=r"cannot write artifacts to .*: No space left on device"):
        train(shrunk_config("baseline.yaml", tiny_corpus))
    run = mlflow.search_runs(experiment_names=["stance-immigration"], output_format="list")[0]
    assert run.info.status == "FAILED"
