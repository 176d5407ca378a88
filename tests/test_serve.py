"""`stance serve` (issue 29): MLflow's scoring app behind limits, as a real server on 127.0.0.1.

Against `mlflow models serve`, a POST without Content-Type and JSON nested 100,000 levels were 500s with
tracebacks, and a 100 MB body was read whole. Here each gets one JSON answer (415, 400, 413) before MLflow sees
the request, the body is never read past the limit, and the server keeps answering valid requests as before.
"""
from __future__ import annotations

import http.client
import json
import os
import sys
from pathlib import Path

import pytest

from conftest import private_store, shrunk_config, tiny_rows, write_jsonl
from servers import free_port, http_service
from stance import predict

TEXTS = ["Deport every criminal alien and build the wall now.", "Stop the raids: deportations tear families apart."]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from stance.workflows.training import train

    tmp = tmp_path_factory.mktemp("serve")
    corpus = write_jsonl(tmp / "tiny.jsonl", tiny_rows())
    with private_store(tmp) as uri:
        result = train(shrunk_config("baseline.yaml", corpus, min_df=1))
    port = free_port()
    cmd = [sys.executable, "-m", "stance", "serve", "-m", "models:/stance-tfidf/latest", "--port", str(port),
           "--max-body-mb", "1"]
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    with http_service(cmd, f"http://127.0.0.1:{port}/ping", tmp / "serve.log", env, timeout=120, cwd=tmp):
        yield port, tmp / result.model_dir


def post(port: int, body: bytes, headers: dict[str, str], chunked: bool = False) -> tuple[int, dict]:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        if chunked:
            con.request("POST", "/invocations", body=iter([body[i:i + 65536] for i in range(0, len(body), 65536)]),
                        headers=headers, encode_chunked=True)
        else:
            con.request("POST", "/invocations", body=body, headers=headers)
        reply = con.getresponse()
        return reply.status, json.loads(reply.read() or b"{}")
    finally:
        con.close()


def valid(port: int, model_dir: Path) -> None:
    body = json.dumps({"dataframe_records": [{"text": t} for t in TEXTS]}).encode()
    status, answer = post(port, body, {"Content-Type": "application/json"})
    assert status == 200, answer
    assert [r["label"] for r in answer["predictions"]] == [p.label for p in predict(TEXTS, model=str(model_dir))]


def test_valid_requests_are_scored_like_stance_predict(served):
    valid(*served)


def test_no_content_type_is_415_not_a_traceback(served):
    status, answer = post(served[0], json.dumps({"dataframe_records": [{"text": TEXTS[0]}]}).encode(), {})
    assert status == 415 and "no Content-Type" in answer["message"]
    valid(*served)


def test_json_nested_100000_levels_is_400(served):
    status, answer = post(served[0], b"[" * 100_000 + b"]" * 100_000, {"Content-Type": "application/json"})
    assert status == 400 and "nested too deeply" in answer["message"]
    valid(*served)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_413_without_reading_it_whole(served, chunked):
    records = json.dumps({"dataframe_records": [{"text": "x" * 1000}] * 3000}).encode()  # ~3 MB, limit 1 MB
    status, answer = post(served[0], records, {"Content-Type": "application/json"}, chunked=chunked)
    assert status == 413 and "takes at most 1,048,576 bytes" in answer["message"]
    valid(*served)
