"""Issue 17 item 6: `latest` and aliases follow new registry versions within one process."""
from __future__ import annotations

import mlflow
import pytest

from conftest import FAVOR, shrunk_config, tiny_rows, write_jsonl
from stance import predict
from stance.train import train

NEXT = {"FAVOR": "AGAINST", "AGAINST": "NONE", "NONE": "FAVOR"}
TEXT = FAVOR[0]  # a training statement: each model says what it was taught about it


@pytest.fixture
def corpora(tmp_path):
    """good: the tiny corpus. swapped: FAVOR and AGAINST exchanged everywhere (a model that behaves otherwise).
    broken: training labels shifted, dev and test labels true (a run gone wrong: test macro-F1 near 0)."""
    swap = {"FAVOR": "AGAINST", "AGAINST": "FAVOR", "NONE": "NONE"}
    rows = tiny_rows()
    return {
        "good": write_jsonl(tmp_path / "good.jsonl", rows),
        "swapped": write_jsonl(tmp_path / "swapped.jsonl", [{**r, "label": swap[r["label"]]} for r in rows]),
        "broken": write_jsonl(tmp_path / "broken.jsonl", [{**r, "label": NEXT[r["label"]]} if r["split"] == "train"
                                                          else r for r in rows]),
    }


def versions() -> list[str]:
    return sorted(str(v.version) for v in mlflow.MlflowClient().search_model_versions("name='stance-tfidf'"))


# ---------------------------------------------------------------- item 6


def test_latest_and_aliases_follow_new_versions_in_the_same_process(tracking_uri, corpora):
    client = mlflow.MlflowClient()
    assert train(shrunk_config("baseline.yaml", corpora["good"])).registered == "models:/stance-tfidf/1"
    client.set_registered_model_alias("stance-tfidf", "champion", "1")
    assert predict(TEXT, model="models:/stance-tfidf/latest").label == "FAVOR"
    assert predict(TEXT, model="models:/stance-tfidf@champion").label == "FAVOR"

    assert train(shrunk_config("baseline.yaml", corpora["swapped"])).registered == "models:/stance-tfidf/2"
    assert predict(TEXT, model="models:/stance-tfidf/latest").label == "AGAINST"  # was: v1 from the cache
    assert predict(TEXT, model="models:/stance-tfidf@champion").label == "FAVOR"  # the alias still names v1
    client.set_registered_model_alias("stance-tfidf", "champion", "2")
    assert predict(TEXT, model="models:/stance-tfidf@champion").label == "AGAINST"
    assert predict(TEXT, model="models:/stance-tfidf/1").label == "FAVOR"
