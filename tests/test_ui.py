"""`stance ui`'s links: which runs they open, and the MLflow view parameters they carry (no browser here;
tests/test_mlflow_ui.py renders them)."""
import json
import urllib.parse

import mlflow
import pytest

from stance import tracking
from stance.tracking.views import base_url, describe_links, links, view_metrics


def _run(experiment, kind, metrics, **tags):
    with tracking.run(experiment, tags={"model_kind": kind, **tags}, run_name=f"{kind} run") as active:
        tracking.log_metrics(metrics)
    return active.info.run_id


def test_latest_run_of_each_kind_of_the_latest_experiment(tracking_uri):
    old_tfidf = _run("stance-immigration", "tfidf", {"test_macro_f1": 0.5})
    transformer = _run("stance-immigration", "transformer", {"epoch_train_loss": 1.0, "test_macro_f1": 0.6,
                                                             "realdev_macro_f1": 0.4})
    tfidf = _run("stance-immigration", "tfidf", {"test_macro_f1": 0.7, "realdev_macro_f1": 0.5})
    _run("stance-immigration", "tfidf", {"eval_macro_f1": 0.1}, run_type="evaluation")  # not a training run
    found = tracking.latest_training_runs(None)
    assert found.experiment_name == "stance-immigration"
    assert {k: r.info.run_id for k, r in found.latest.items()} == {"tfidf": tfidf, "transformer": transformer}
    assert old_tfidf not in {r.info.run_id for r in found.latest.values()}
    assert view_metrics(found) == ["test_macro_f1", "realdev_macro_f1"]

    urls = links("http://127.0.0.1:5000", found)
    assert urls["runs"] == (f"http://127.0.0.1:5000/#/experiments/{found.experiment_id}/runs"
                            "?workflowType=machine_learning&viewStateShareKey=stance-headline")
    query = urllib.parse.parse_qs(urls["compare"].split("?", 1)[1])
    assert json.loads(query["runs"][0]) == [tfidf, transformer]  # ordered by kind
    assert query["workflowType"] == ["machine_learning"]
    printed = describe_links(found, "http://127.0.0.1:5000", tracking_uri)
    assert "compare tfidf (tfidf run) vs transformer (transformer run):" in printed and urls["compare"] in printed

    # Another experiment trained later becomes the default; --experiment still picks this one.
    _run("my-study", "tfidf", {"test_macro_f1": 0.9})
    assert tracking.latest_training_runs(None).experiment_name == "my-study"
    assert tracking.latest_training_runs(None, "stance-immigration").latest["tfidf"].info.run_id == tfidf
    with pytest.raises(ValueError, match="no MLflow experiment named 'nope'"):
        tracking.latest_training_runs(None, "nope")


def test_saved_view_shows_the_headline_metrics(tracking_uri):
    _run("stance-immigration", "tfidf", {"test_macro_f1": 0.7})
    exp = mlflow.get_experiment_by_name("stance-immigration")
    tracking.show_first(exp.experiment_id, ["test_realpool_macro_f1", "realdev_macro_f1"])
    tags = mlflow.get_experiment(exp.experiment_id).tags
    view = json.loads(tags["mlflow.sharedViewState.stance-headline"])
    assert view["name"] == "Headline metrics" and isinstance(view["createdAt"], int)
    state = json.loads(view["state"])
    assert state["selectedColumns"][:2] == ["metrics.`test_realpool_macro_f1`", "metrics.`realdev_macro_f1`"]
    assert state["columnOrder"][:2] == state["selectedColumns"][:2]  # right after the run names
    assert tags["mlflow.experiment.primaryMetric.name"] == "test_realpool_macro_f1"


def test_no_runs_and_wildcard_hosts(tracking_uri):
    assert tracking.latest_training_runs(None) is None
    assert "No training runs in" in describe_links(None, "http://127.0.0.1:5000", tracking_uri)
    assert base_url("0.0.0.0", 5000) == "http://127.0.0.1:5000"
    assert base_url("::", 5000) == "http://127.0.0.1:5000"
    assert base_url("10.0.0.5", 8080) == "http://10.0.0.5:8080"
