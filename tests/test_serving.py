"""`mlflow models serve -m models:/stance-transformer/latest --env-manager local` on 127.0.0.1, for real.

Valid statements come back with the same labels and scores as `stance.predict`; a request holding invalid
statements is rejected whole (HTTP 400) with a message naming every bad index.
"""
from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from conftest import TARGET
from servers import free_port, http_service
from stance import predict

pytestmark = pytest.mark.slow
TEXTS = ["Build the wall and deport criminal aliens.", "Protect Dreamers from deportation.",
         "Road work on Main Street ends in October."]


@pytest.fixture(scope="module")
def served(registered_transformer, tmp_path_factory):
    uri, result = registered_transformer
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", "models:/stance-transformer/latest",
           "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    # mlflow runs `uvicorn` by name: the venv's bin must be on PATH even when the venv is not activated.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "PATH": path}
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with http_service(cmd, f"{base}/ping", log, env, timeout=180) as proc:
        yield base, result, proc


def _post(base: str, payload: dict) -> tuple[int, dict]:
    req = urllib.request.Request(f"{base}/invocations", data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_served_model_labels_and_scores_match_stance_predict(served):
    base, result, _ = served
    status, body = _post(base, {"dataframe_records": [{"text": t} for t in TEXTS]})
    assert status == 200, body
    rows = body["predictions"]
    expected = predict(TEXTS, model=str(result.model_dir), target=TARGET)
    assert [r["label"] for r in rows] == [p.label for p in expected]
    for row, p in zip(rows, expected):
        assert set(row) == {"label", "FAVOR", "AGAINST", "NONE"}
        assert np.allclose([row[k] for k in ("FAVOR", "AGAINST", "NONE")],
                           [p.scores[k] for k in ("FAVOR", "AGAINST", "NONE")], atol=1e-5)
        assert abs(sum(row[k] for k in ("FAVOR", "AGAINST", "NONE")) - 1) < 1e-5


def test_explicit_target_column_is_used(served):
    base, result, _ = served
    other = "more funding for public libraries"
    status, body = _post(base, {"dataframe_split": {"columns": ["text", "target"],
                                                    "data": [[TEXTS[0], other], [TEXTS[1], None]]}})
    assert status == 200, body
    expected = [predict(TEXTS[0], model=str(result.model_dir), target=other),
                predict(TEXTS[1], model=str(result.model_dir), target=TARGET)]  # missing target: the model's own
    assert np.allclose([[r[k] for k in ("FAVOR", "AGAINST", "NONE")] for r in body["predictions"]],
                       [[p.scores[k] for k in ("FAVOR", "AGAINST", "NONE")] for p in expected], atol=1e-5)


def test_invalid_statements_reject_the_request_naming_each_index(served):
    base, _, proc = served
    status, body = _post(base, {"dataframe_records": [{"text": TEXTS[0]}, {"text": ""}, {"text": "   "},
                                                      {"text": None}, {"text": TEXTS[1]}]})
    assert status == 400
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    msg = body["message"]
    assert "3 of 5 inputs are invalid" in msg
    assert "index 1: empty or whitespace-only text" in msg and "index 2: empty or whitespace-only text" in msg
    assert "index 3: missing text (NaN/null) is not a statement" in msg
    assert "index 0" not in msg and "index 4" not in msg
    assert proc.poll() is None  # the server keeps serving
    status, _ = _post(base, {"dataframe_records": [{"text": TEXTS[2]}]})
    assert status == 200


def test_request_without_text_column_is_rejected(served):
    base, _, _ = served
    status, body = _post(base, {"dataframe_records": [{"statement": TEXTS[0]}]})
    assert status == 400
    assert "text" in body["message"]


def test_pyfunc_in_process_raises_mlflow_exception_naming_the_index(registered_transformer, monkeypatch):
    import mlflow
    import pandas as pd
    from mlflow.exceptions import MlflowException

    uri, result = registered_transformer
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    model = mlflow.pyfunc.load_model(result.model_uri)
    with pytest.raises(MlflowException, match=r"1 of 2 inputs are invalid: index 0: empty or whitespace-only text"):
        model.predict(pd.DataFrame({"text": ["", TEXTS[0]]}))
