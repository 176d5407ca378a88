"""Safety: pickles refused without an explicit opt-in, servers on loopback, no credentials in logged params."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import mlflow
import pytest

from stance.config import TfidfConfig
from stance.data import DataConfig, load_data
from stance.models import UnsafeModelError, load
from stance.models.tfidf import TfidfModel


def test_pickle_in_a_model_folder_is_refused_unless_opted_in(tiny_corpus, tmp_path, monkeypatch):
    data = load_data(DataConfig(path=str(tiny_corpus)), seed=1)
    m = TfidfModel(TfidfConfig(), data.labels, seed=1)
    m.fit(data.train, data.dev)
    m.save(tmp_path / "m")
    (tmp_path / "m" / "extra.pkl").write_bytes(b"\x80\x04not really")
    with pytest.raises(UnsafeModelError, match=r"m holds pickle-based files \['extra.pkl'\]; refusing to load it "
                                               r"\(set STANCE_ALLOW_PICKLE=1 only for files you trust\)"):
        load(tmp_path / "m")
    monkeypatch.setenv("STANCE_ALLOW_PICKLE", "1")
    assert load(tmp_path / "m").predict(["Build the wall."], [data.train["target"][0]]) == ["FAVOR"]


def test_passwords_in_uris_and_secret_keys_never_reach_the_run(tracking_uri, tiny_corpus):
    from conftest import shrunk_config
    from stance.workflows.training import train

    url = "postgresql://alice:hunter2@db.internal:5432/stance"  # e.g. expanded from ${DB_URL} in a config
    cfg = shrunk_config("baseline.yaml", tiny_corpus, extra=(f"tracking.tags={{source: '{url}', api_token: t0k}}",))
    run = mlflow.get_run(train(cfg).run_id)
    assert run.data.params["tracking.tags.source"] == "postgresql://alice:***@db.internal:5432/stance"
    assert run.data.tags["source"] == "postgresql://alice:***@db.internal:5432/stance"
    assert "tracking.tags.api_token" not in run.data.params
    logged = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/config.yaml")
    everything = " ".join([logged, *run.data.params.values(), *run.data.tags.values()])
    assert "hunter2" not in everything and "alice:***@" in logged


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as /proc shows them) of sockets listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                addr, p = local.rsplit(":", 1)
                if state == "0A" and int(p, 16) == port:  # 0A = LISTEN
                    found.add(addr)
    return found


def test_stance_ui_binds_loopback_only(tracking_uri, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "stance.cli", "ui", "--port", str(port)],
                            stdout=open(tmp_path / "ui.log", "w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/search?max_results=1",
                                       timeout=2)
                break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, (tmp_path / "ui.log").read_text()[-2000:]
                time.sleep(0.5)
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1 and nothing else
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
