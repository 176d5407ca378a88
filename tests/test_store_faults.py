"""Issue 17 items 3, 5 and 12 (stores): credentials in the tracking URI, database stores with nothing behind
them, a signal before any run exists, a read-only sqlite store. Each answers with one line naming the store
(its password masked) within seconds, never a traceback, a minute of retries or a leaked password."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import mlflow
import pytest

from conftest import ROOT
from servers import basic_auth_proxy, free_port, mlflow_server
from stance.tracking import TrackingError, configure

PASSWORD = "S3cretPW"


def train_cmd(corpus) -> list[str]:
    # min_df 1: in a few dozen statements most n-grams occur once; the real config's min_df 2 would drop them.
    return [sys.executable, "-m", "stance.cli", "train", str(ROOT / "configs" / "baseline.yaml"),
            "--set", f"data.path={corpus}", "--set", "data.exclude=null", "--set", "eval_sets=[]",
            "--set", "model.min_df=1"]


def stance_train(corpus, cwd, uri: str, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    for var in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        env.pop(var, None)
    return subprocess.run(train_cmd(corpus), env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def clean_credentials(monkeypatch):
    """configure() exports the URI's credentials for MLflow: put the variables back after the test."""
    for var in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(var, raising=False)


# ---------------------------------------------------------------- item 3: http://user:password@host


def test_credentials_in_the_uri_log_a_run_through_basic_auth_and_never_show(tiny_corpus, tmp_path, tracking_uri,
                                                                            clean_credentials):
    with mlflow_server(f"sqlite:///{tmp_path / 'server.db'}", tmp_path, tmp_path / "artifacts") as base, \
            basic_auth_proxy(base, "alice", PASSWORD) as (proxy, seen):
        out = stance_train(tiny_corpus, tmp_path, proxy.replace("http://", f"http://alice:{PASSWORD}@"))
        assert out.returncode == 0, out.stderr[-3000:]
        assert PASSWORD not in out.stdout + out.stderr
        run_id = out.stdout.split("run:   ")[1].split()[0]
        assert f"({proxy})\n" in out.stdout  # the store named without its credentials

        # Read back straight from the server (behind the proxy): the run, its model version, its files.
        client = mlflow.MlflowClient(base)
        run = client.get_run(run_id)
        assert run.info.status == "FINISHED" and run.data.metrics["test_macro_f1"] > 0.5
        assert [v.run_id for v in client.search_model_versions("name='stance-tfidf'")] == [run_id]
        assert any((tmp_path / "artifacts").rglob("MLmodel"))
        config_yaml = next((tmp_path / "artifacts").rglob("config.yaml")).read_text()
        assert PASSWORD not in " ".join([config_yaml, *run.data.params.values(), *run.data.tags.values()])
        # Every request went through the proxy with the password as basic auth; none was refused.
        assert len(seen) > 10 and 401 not in {status for _, _, status in seen}

        # In one process: the URI's credentials are exported for MLflow, and withdrawn for a store without any.
        assert configure(proxy.replace("http://", f"http://alice:{PASSWORD}@")) == proxy
        assert (os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"]) == ("alice", PASSWORD)
        assert configure(base) == base and "MLFLOW_TRACKING_PASSWORD" not in os.environ

        # A wrong password: one line naming the server, in seconds, without the password.
        with pytest.raises(TrackingError) as e:
            configure(proxy.replace("http://", "http://alice:wr0ng-Pa55@"))
        assert str(e.value).startswith(f"MLflow tracking server {proxy} answered HTTP 401: the credentials "
                                       f"given were refused")
        assert "wr0ng-Pa55" not in str(e.value)


# ---------------------------------------------------------------- item 5: database stores, signals


@pytest.mark.parametrize("scheme", ["postgresql", "mysql+pymysql"])
def test_database_store_with_nothing_behind_it_fails_in_seconds(tiny_corpus, tracking_uri, monkeypatch, capsys,
                                                               scheme):
    from stance.cli import main

    port = free_port()  # nothing listens there
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"{scheme}://bob:pw-4711@127.0.0.1:{port}/stance")
    start = time.perf_counter()
    assert main(train_cmd(tiny_corpus)[3:]) == 1
    assert time.perf_counter() - start < 15  # was over 60 s of retries for PostgreSQL
    err = capsys.readouterr().err
    assert (f"stance train: TrackingError: MLflow tracking store {scheme}://bob:***@127.0.0.1:{port}/stance is "
            f"unreachable: cannot connect to 127.0.0.1:{port} within 3 s (Connection refused)") in err
    assert "pw-4711" not in err


def test_signal_before_any_run_exists_does_not_claim_a_killed_run(tiny_corpus, tmp_path, tracking_uri):
    """A server that accepts the connection and never answers keeps the store check waiting: SIGTERM lands
    there, before any MLflow run was started."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(120)
        env = {**os.environ, "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{silent.getsockname()[1]}"}
        proc = subprocess.Popen(train_cmd(tiny_corpus), env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            conn, _ = silent.accept()  # the check is waiting for an answer now
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
            conn.close()
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted by SIGTERM; no MLflow run was started" in err
    assert "KILLED" not in err


# ---------------------------------------------------------------- item 12: read-only sqlite store


@contextlib.contextmanager
def read_only(path):
    """Read-only even for root (tests run as root in CI): the immutable attribute, else plain permissions."""
    if os.geteuid() == 0:
        if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
            pytest.skip("running as root without chattr +i on this file system: cannot make a file read-only")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)


@pytest.mark.parametrize("what", ["file", "folder"])
def test_read_only_sqlite_store_is_one_line_naming_the_file(tiny_corpus, tmp_path, what):
    store = tmp_path / "store"
    db = store / "mlflow.db"
    configure(f"sqlite:///{db}")  # a real, current store
    mlflow.MlflowClient(f"sqlite:///{db}").create_experiment("before")
    with read_only(db if what == "file" else store):
        out = stance_train(tiny_corpus, tmp_path, f"sqlite:///{db}", timeout=120)
    assert out.returncode == 1
    expected = (f"stance train: TrackingError: MLflow store {db} is read-only (Operation not permitted)"
                if what == "file" else f"stance train: TrackingError: MLflow store {db}: its folder is read-only")
    if os.geteuid() != 0:
        expected = expected.replace("Operation not permitted", "Permission denied")
    errors = [line for line in out.stderr.splitlines() if not line.startswith("[stance]")]
    assert len(errors) == 1 and errors[0].startswith(expected), out.stderr[-3000:]
