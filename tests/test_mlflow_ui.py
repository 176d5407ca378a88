"""The MLflow UI, rendered by a real headless Chromium against a real `mlflow server` on 127.0.0.1.

Two tracked runs must show up on the experiment page, and the compare page of the two must show the
metric names both model kinds share. Screenshots are saved under outputs/test-artifacts/.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import urllib.parse

import mlflow
import pytest

from conftest import ROOT, shrunk_config
from servers import mlflow_server
from stance.train import train

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "outputs" / "test-artifacts"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it as root)")


@pytest.fixture
def server(tiny_corpus, tracking_uri, tmp_path):
    """Two runs in the test's own store, then `mlflow server` over that store; stopped by PID."""
    runs = [train(shrunk_config("baseline.yaml", tiny_corpus, extra=(f"tracking.run_name=ui-run-C{c}",), C=c))
            for c in (1.0, 0.1)]
    with mlflow_server(tracking_uri, tmp_path) as base:
        yield base, runs


def _render(url: str, name: str) -> str:
    """The DOM after the single-page app has rendered, plus a screenshot of the same page."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--virtual-time-budget=15000", "--window-size=1400,3000"]  # tall: the metrics table renders too
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([CHROMIUM, *flags, f"--user-data-dir={profile}", f"--screenshot={ARTIFACTS / name}", url],
                       capture_output=True, timeout=120)
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run([CHROMIUM, *flags, f"--user-data-dir={profile}", "--dump-dom", url],
                             capture_output=True, text=True, timeout=120)
    return out.stdout


def test_experiment_and_compare_pages_show_both_runs_and_shared_metrics(server):
    base, runs = server
    run_a, run_b = (mlflow.get_run(r.run_id) for r in runs)
    exp_id = run_a.info.experiment_id

    page = _render(f"{base}/#/experiments/{exp_id}/runs", "mlflow-experiment.png")
    assert run_a.info.run_name in page, "first run missing from the experiment page"
    assert run_b.info.run_name in page, "second run missing from the experiment page"

    ids = urllib.parse.quote(json.dumps([run_a.info.run_id, run_b.info.run_id]))
    page = _render(f"{base}/#/compare-runs?runs={ids}&experiments={urllib.parse.quote(json.dumps([exp_id]))}",
                   "mlflow-compare.png")
    # The metrics table is virtualised: its first rows (alphabetical) render, and they are metric names
    # every model kind logs.
    for metric in ("dev_accuracy", "dev_f_avg", "dev_macro_f1"):
        assert metric in page, f"{metric} missing from the compare page"
    for run in (run_a, run_b):
        assert run.info.run_id in page and run.info.run_name in page
    assert (ARTIFACTS / "mlflow-compare.png").stat().st_size > 10_000
