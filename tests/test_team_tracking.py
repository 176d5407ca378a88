"""Team tracking: `mlflow server` on a PostgreSQL backend store with a local, server-proxied artifact root.

The test starts its own throwaway PostgreSQL 15 cluster (as the `postgres` user when run as root) and the
server on free 127.0.0.1 ports, trains two TF-IDF runs against the server, reads them back with
`stance compare`, and checks the values in PostgreSQL itself and the files in the artifact root.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import shrunk_config
from servers import mlflow_server, postgres
from stance.workflows.training import train

pytest.importorskip("psycopg", reason="psycopg is not installed (it is in the `test` extra)")
EXPERIMENT = "stance-team"


@pytest.fixture
def team_server(tmp_path, tracking_uri):
    with postgres() as pg_uri, mlflow_server(pg_uri, tmp_path, artifacts_destination=tmp_path / "artifacts") as base:
        yield pg_uri, base, tmp_path / "artifacts"


def test_runs_logged_to_a_postgres_backed_server_are_read_back_by_compare(team_server, tiny_corpus, tmp_path):
    import psycopg

    pg_uri, base, artifacts = team_server
    results = [train(shrunk_config("baseline.yaml", tiny_corpus, extra=(
        f"tracking.uri={base}", f"tracking.experiment={EXPERIMENT}", f"seed={seed}"))) for seed in (13, 14)]
    assert all(r.tracking_uri == base for r in results)
    assert [r.registered for r in results] == ["models:/stance-tfidf/1", "models:/stance-tfidf/2"]

    # The store really is PostgreSQL: the metrics are rows there.
    with psycopg.connect(pg_uri) as conn, conn.cursor() as cur:
        cur.execute("SELECT run_uuid, value FROM latest_metrics WHERE key = 'test_macro_f1'")
        in_db = dict(cur.fetchall())
        cur.execute("SELECT name FROM registered_models")
        assert cur.fetchall() == [("stance-tfidf",)]
    assert in_db == pytest.approx({r.run_id: r.metrics["test_macro_f1"] for r in results})
    # Artifacts went through the server into its local artifact root.
    stored = [p.relative_to(artifacts).parts for p in artifacts.rglob("predictions_test.csv")]
    assert sorted(r.run_id for r in results) == sorted(next(x for x in parts if len(x) == 32) for parts in stored)
    assert len(list(artifacts.rglob("MLmodel"))) == 2

    env = {**os.environ, "MLFLOW_TRACKING_URI": base}
    out = subprocess.run([sys.executable, "-m", "stance.cli", "compare", "--experiment", EXPERIMENT,
                          "--out", str(tmp_path / "compare")], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    table = json.loads((tmp_path / "compare" / "comparison.json").read_text())["table"]
    assert len(table) == 1
    row = table[0]
    assert (row["dataset"], row["model"], row["seeds"]) == ("immigration", "tfidf", "13,14")
    for metric in ("test_macro_f1", "test_f_avg"):
        values = [r.metrics[metric] for r in results]
        assert row[metric] == f"{np.mean(values):.3f} ± {np.std(values):.3f}"
        assert row[metric] in out.stdout
