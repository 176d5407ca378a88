"""Issue 17 items 6 and 11: the registry as a notebook and a team see it. `latest` and aliases follow new
versions within one process; `tracking.register_if` keeps a broken model from becoming `latest`."""
from __future__ import annotations

import mlflow
import pytest

from conftest import FAVOR, shrunk_config, tiny_rows, write_jsonl
from stance import predict
from stance.config import ConfigError
from stance.workflows.training import train

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


# ---------------------------------------------------------------- item 11


def test_register_if_min_keeps_a_broken_model_logged_but_unregistered(tracking_uri, corpora, capsys):
    cfg = shrunk_config("baseline.yaml", corpora["broken"],
                        extra=("tracking.register_if={metric: test_macro_f1, min: 0.5}",))
    result = train(cfg)
    f1 = result.metrics["test_macro_f1"]
    assert f1 < 0.5
    why = f"test_macro_f1 {f1:.4f} is below the minimum 0.5"
    assert result.registered is None and result.not_registered == why and versions() == []
    run = mlflow.get_run(result.run_id)
    assert run.info.status == "FINISHED" and run.data.tags["registration"] == f"skipped: {why}"
    assert result.model_uri and mlflow.pyfunc.load_model(result.model_uri)  # still logged in its run
    assert f"not registering stance-tfidf: {why} (tracking.register_if)" in capsys.readouterr().err

    # Off by default: the same broken run without a rule is registered, as before.
    assert train(shrunk_config("baseline.yaml", corpora["broken"])).registered == "models:/stance-tfidf/1"


def test_register_if_max_drop_compares_with_the_latest_version(tracking_uri, corpora):
    rule = ("tracking.register_if={metric: test_macro_f1, max_drop: 0.05}",)
    # min_df 1: in a few dozen statements most n-grams occur once; the real config's min_df 2 would drop them.
    good = train(shrunk_config("baseline.yaml", corpora["good"], extra=rule, min_df=1))
    assert good.registered == "models:/stance-tfidf/1"  # nothing registered yet: nothing to drop from
    broken = train(shrunk_config("baseline.yaml", corpora["broken"], extra=rule, min_df=1))
    before, after = good.metrics["test_macro_f1"], broken.metrics["test_macro_f1"]
    assert broken.not_registered == (f"test_macro_f1 {after:.4f} is {before - after:.4f} below version 1's "
                                     f"{before:.4f} (max_drop 0.05)")
    assert versions() == ["1"]
    again = train(shrunk_config("baseline.yaml", corpora["good"], extra=rule, min_df=1))  # as good as v1: registered
    assert again.registered == "models:/stance-tfidf/2" and again.not_registered is None


def test_register_if_is_checked_like_any_config_section(tiny_corpus):
    with pytest.raises(ConfigError, match=r"tracking.register_if: Value error, set min, max_drop or both"):
        shrunk_config("baseline.yaml", tiny_corpus, extra=("tracking.register_if={metric: test_macro_f1}",))
    with pytest.raises(ConfigError, match=r"unknown key 'tracking.register_if.mni'; did you mean 'tracking.register_if.min'\?"):
        shrunk_config("baseline.yaml", tiny_corpus, extra=("tracking.register_if={mni: 0.5}",))
