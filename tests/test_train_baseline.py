"""End to end: config -> train -> MLflow run -> registered model -> predict, on a private store."""
import json
import subprocess
import sys

import mlflow
import pandas as pd
import pytest

from conftest import ROOT, TARGET, shrunk_config
from stance import predict
from stance.workflows.training import train


@pytest.fixture
def result(tiny_corpus, tracking_uri):
    cfg = shrunk_config("baseline.yaml", tiny_corpus)
    return train(cfg)


def test_run_records_params_metrics_dataset_and_artifacts(result, tracking_uri):
    run = mlflow.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "tfidf baseline path=tiny.jsonl exclude=null eval_sets=[] behaviour=null seed=13"
    assert run.data.params["model.kind"] == "tfidf" and run.data.params["model.C"] == "1.0"
    assert run.data.params["data.n_train"] == "24"
    assert run.data.tags["model_kind"] == "tfidf" and len(run.data.tags["dataset_digest"]) == 16
    assert run.data.tags["git_commit"]
    for name in ("test_macro_f1", "test_f_avg", "test_f1_favor", "dev_accuracy", "train_time_s", "model_size_mb"):
        assert name in run.data.metrics
    assert run.data.metrics["test_n"] == 6
    assert result.metrics["test_macro_f1"] == run.data.metrics["test_macro_f1"]
    inputs = {d.dataset.name: d.dataset for d in run.inputs.dataset_inputs}
    assert set(inputs) == {"immigration-train", "immigration-dev", "immigration-test"}
    assert inputs["immigration-test"].digest == run.data.tags["dataset_digest"]
    files = {f.path for f in mlflow.artifacts.list_artifacts(run_id=result.run_id, artifact_path="eval")}
    assert {"eval/confusion_test.png", "eval/misclassified_test.csv", "eval/classification_report_test.txt",
            "eval/predictions_test.csv", "eval/per_source_labels_test.csv", "eval/per_source_labels_test.json",
            "eval/most_confident_errors_test.json"} <= files
    cfg_text = mlflow.artifacts.load_text(f"runs:/{result.run_id}/config.yaml")
    assert "kind: tfidf" in cfg_text


def test_registered_model_predicts_clear_statements(result):
    assert result.registered == "models:/stance-tfidf/1"
    preds = predict(["Deport criminal aliens and build the wall.", "Protect immigrant families from raids.",
                     "The parade starts at the park."], model="models:/stance-tfidf/latest")
    assert [p.label for p in preds] == ["FAVOR", "AGAINST", "NONE"]
    assert all(abs(sum(p.scores.values()) - 1) < 1e-9 for p in preds)
    single = predict("Deport criminal aliens and build the wall.", model=f"runs:/{result.run_id}/model")
    assert single.label == "FAVOR" and single.target == TARGET
    assert predict("Deport criminal aliens.", model=str(result.model_dir)).label == "FAVOR"


def test_pyfunc_scores_every_row_of_a_dataframe(result):
    model = mlflow.pyfunc.load_model("models:/stance-tfidf/latest")
    out = model.predict(pd.DataFrame({"text": ["Build the wall.", "Protect Dreamers.", "Library hours change."]}))
    assert list(out.columns) == ["label", "FAVOR", "AGAINST", "NONE"]
    assert len(out) == 3  # not one prediction per column name (the bare-vectorizer trap)
    assert out["label"].tolist()[:2] == ["FAVOR", "AGAINST"]


def test_predict_rejects_invalid_items_by_index(result):
    from stance.prediction import InvalidInputError

    with pytest.raises(InvalidInputError, match=r"2 of 4 inputs are invalid: index 1: empty text \(only whitespace or control characters\); "
                                                r"index 3: expected a string, got int"):
        predict(["ok", "  ", "fine", 5], model=str(result.model_dir))


def test_cli_predict_writes_jsonl(result, tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"text": "Protect immigrant families from raids."}) + "\n")
    out = subprocess.run([sys.executable, "-m", "stance.cli", "predict", "--model", "models:/stance-tfidf/latest",
                          "--input", str(inp), "Build the wall and deport criminal aliens."],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["label"] for r in rows] == ["FAVOR", "AGAINST"]
    assert set(rows[0]["scores"]) == {"FAVOR", "AGAINST", "NONE"}


def test_cli_train_reports_config_errors_before_any_run(tracking_uri, tmp_path):
    out = subprocess.run([sys.executable, "-m", "stance.cli", "train", str(ROOT / "configs" / "baseline.yaml"),
                          "--set", "model.cc=3"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "unknown key 'model.cc'; did you mean 'model.C'?" in out.stderr
    assert mlflow.search_runs(search_all_experiments=True).empty


def test_pyfunc_fills_missing_targets_with_the_models_own(result):
    model = mlflow.pyfunc.load_model("models:/stance-tfidf/latest")
    frame = pd.DataFrame({"text": ["Build the wall.", "Build the wall."], "target": [TARGET, ""]})
    out = model.predict(frame)
    assert out["label"].tolist() == ["FAVOR", "FAVOR"]
    assert out.iloc[0]["FAVOR"] == out.iloc[1]["FAVOR"]


def test_credential_like_params_are_never_logged(tracking_uri):
    from stance import tracking

    mlflow.set_experiment("params")
    with mlflow.start_run() as run:
        tracking.log_params({"tracking.api_token": "s3cret", "db.password": "x", "model.C": 2.0, "long": "y" * 900})
    params = mlflow.get_run(run.info.run_id).data.params
    assert set(params) == {"model.C", "long"} and len(params["long"]) == tracking.PARAM_MAX


def test_a_collapsed_model_fails_the_run_and_is_not_registered(tiny_corpus, tracking_uri):
    """Issue 25: one label for > 90% of dev, or dev macro-F1 below the majority baseline, fails with a clear
    message (here a TF-IDF so regularised that it answers one label)."""
    from stance.workflows.training import CollapsedModelError, check_not_collapsed

    from conftest import tiny_rows, write_jsonl

    # Train mostly FAVOR, and regularise so hard that only the intercept speaks: FAVOR for every dev statement.
    rows = [r for r in tiny_rows() if r["split"] != "train" or r["label"] == "FAVOR" or r["text"][-2] in "aeiou"]
    skewed = write_jsonl(tiny_corpus.parent / "skewed.jsonl", rows)
    with pytest.raises(CollapsedModelError, match=r"answers FAVOR for 100% of dev"):
        train(shrunk_config("baseline.yaml", skewed, C=1e-6, class_weight=None, calibration="none"))
    run = mlflow.search_runs(search_all_experiments=True, output_format="list")[0]
    assert run.info.status == "FAILED"
    assert not mlflow.MlflowClient().search_registered_models()
    labels = ["FAVOR", "AGAINST", "NONE"]
    gold = ["FAVOR"] * 6 + ["AGAINST"] * 2 + ["NONE"] * 2
    with pytest.raises(CollapsedModelError, match="majority"):  # 60% one label, but worse than the majority
        check_not_collapsed(gold, ["AGAINST"] * 6 + ["NONE"] * 2 + ["FAVOR"] * 2, labels)
    check_not_collapsed(gold, gold, labels)  # a model that is right passes
