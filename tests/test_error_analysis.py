"""Error analysis: per-group metrics, two models side by side, and the tables an evaluation logs to MLflow."""
import mlflow
import pandas as pd
import pytest

from conftest import tiny_rows, write_jsonl
from stance.cli import main
from stance.config import TfidfConfig
from stance.data import DataConfig, load_data
from stance.evaluation.error_analysis import cross_model_tables, group_metrics
from stance.models.tfidf import TfidfModel

LABELS = ["FAVOR", "AGAINST", "NONE"]


def _frame(gold, pred, conf, genre):
    return pd.DataFrame({"where": [f"f:{i}" for i in range(len(gold))], "text": [f"t{i}" for i in range(len(gold))],
                         "label": gold, "genre": genre, "predicted": pred, "confidence": conf,
                         "p_favor": conf, "p_against": [1 - c for c in conf], "p_none": 0.0})


def test_group_metrics_on_hand_computed_predictions():
    f = _frame(["FAVOR", "AGAINST", "NONE", "FAVOR"], ["FAVOR", "FAVOR", "NONE", "FAVOR"], [.9, .6, .8, .7],
               ["tweet", "tweet", "speech", "tweet"])
    g = group_metrics(f, "genre", LABELS).set_index("genre")
    assert list(g.index) == ["tweet", "speech"]  # largest group first
    assert g.loc["tweet", "n"] == 3 and g.loc["tweet", "errors"] == 1
    assert g.loc["tweet", "accuracy"] == pytest.approx(2 / 3)
    # tweet: FAVOR F1 = 2*2/(2*2+1) = 0.8, AGAINST 0, NONE 0 (absent) -> macro 0.8/3; F_avg = 0.4
    assert g.loc["tweet", "macro_f1"] == pytest.approx(0.8 / 3) and g.loc["tweet", "f_avg"] == pytest.approx(0.4)
    assert g.loc["speech", "accuracy"] == 1.0


def test_cross_model_tables_list_errors_with_both_models_and_disagreements():
    gold = ["FAVOR", "AGAINST", "NONE", "FAVOR"]
    a = _frame(gold, ["FAVOR", "FAVOR", "NONE", "FAVOR"], [.9, .6, .8, .7], ["x", "x", "y", "y"])
    b = _frame(gold, ["FAVOR", "AGAINST", "AGAINST", "FAVOR"], [.8, .9, .5, .6], ["x", "x", "y", "y"])
    t = cross_model_tables({"tfidf": a, "transformer": b}, LABELS)
    wrong = t["misclassified"]
    assert wrong["where"].tolist() == ["f:1", "f:2"]
    assert wrong["wrong_by"].tolist() == ["tfidf", "transformer"]
    assert wrong.loc[0, "tfidf_label"] == "FAVOR" and wrong.loc[0, "transformer_label"] == "AGAINST"
    assert wrong.loc[0, "transformer_confidence"] == 0.9 and wrong.loc[1, "tfidf_p_favor"] == 0.8
    assert t["disagreements"]["where"].tolist() == ["f:1", "f:2"]
    by = t["by_genre"].set_index(["model", "genre"])
    assert by.loc[("tfidf", "x"), "accuracy"] == 0.5 and by.loc[("transformer", "y"), "accuracy"] == 0.5
    with pytest.raises(ValueError, match="not scored on the same items"):
        cross_model_tables({"tfidf": a, "transformer": b.iloc[:3]}, LABELS)


def _fit_and_save(rows, path):
    data = load_data(DataConfig(path=str(write_jsonl(path.with_suffix(".jsonl"), rows))), seed=1)
    model = TfidfModel(TfidfConfig(), data.labels, seed=1)
    model.fit(data.train, data.dev)
    model.save(path)
    return path


def test_evaluate_two_models_logs_comparison_tables(tmp_path, tracking_uri, capsys):
    rows = tiny_rows()
    good = _fit_and_save(rows, tmp_path / "good")
    # A model that learned FAVOR and AGAINST the wrong way round: it disagrees on exactly those items.
    swap = {"FAVOR": "AGAINST", "AGAINST": "FAVOR", "NONE": "NONE"}
    bad = _fit_and_save([{**r, "label": swap[r["label"]]} for r in rows], tmp_path / "bad")
    test = [{**r, "genre": "tweet" if i % 2 else "speech", "speaker_role": "mayor"}
            for i, r in enumerate(x for x in rows if x["split"] == "test")]
    data = write_jsonl(tmp_path / "test.jsonl", test)
    assert main(["evaluate", "--model", str(good), "--model", str(bad), "--data", str(data), "--name", "held",
                 "--target-column", "target", "--out", str(tmp_path / "ev")]) == 0
    out = capsys.readouterr().out
    assert "4 disagreements, 4 items wrong by at least one model" in out
    # The per-group tables it computed are printed too, one row per model and group.
    printed = out[out.index("by_genre_held:"):].splitlines()
    assert printed[1].split("|")[1:-1] == [f" {c} " for c in ("model ", "genre ", "n", "accuracy", "macro_f1",
                                                              "f_avg", "errors")]
    assert {tuple(c.strip() for c in row.split("|")[1:4]) for row in printed[3:7]} == \
        {("tfidf", "speech", "3"), ("tfidf", "tweet", "3"), ("tfidf2", "speech", "3"), ("tfidf2", "tweet", "3")}
    assert "by_speaker_role_held:" in out
    parent = mlflow.search_runs(experiment_names=["stance-evaluate"], filter_string="tags.run_type = "
                                "'evaluation_comparison'", output_format="list")[0]
    pid = parent.info.run_id
    assert parent.data.metrics["held_disagreement_rate"] == pytest.approx(4 / 6)
    wrong = mlflow.load_table("errors/misclassified_held.json", run_ids=[pid])
    assert sorted(wrong["label"]) == ["AGAINST", "AGAINST", "FAVOR", "FAVOR"]
    assert set(wrong["wrong_by"]) == {"tfidf2"}
    assert (wrong["tfidf_label"] == wrong["label"]).all() and (wrong["tfidf2_label"] != wrong["label"]).all()
    dis = mlflow.load_table("errors/disagreements_held.json", run_ids=[pid])
    assert len(dis) == 4 and {"tfidf_p_favor", "tfidf2_p_favor", "genre", "speaker_role"} <= set(dis.columns)
    by = mlflow.load_table("errors/by_genre_held.json", run_ids=[pid]).set_index(["model", "genre"])
    assert by.loc[("tfidf", "speech"), "accuracy"] == 1.0 and by.loc[("tfidf", "speech"), "n"] == 3
    assert by.loc[("tfidf2", "tweet"), "errors"] + by.loc[("tfidf2", "speech"), "errors"] == 4
    roles = mlflow.load_table("errors/by_speaker_role_held.json", run_ids=[pid])
    assert roles["speaker_role"].tolist() == ["mayor", "mayor"]
    # Each model also has its own child run, with its per-genre table.
    children = mlflow.search_runs(experiment_names=["stance-evaluate"],
                                  filter_string=f"tags.mlflow.parentRunId = '{pid}'", output_format="list")
    assert sorted(c.data.tags["evaluated_model"] for c in children) == sorted([str(good), str(bad)])
    for c in children:
        own = mlflow.load_table("eval/by_genre_held.json", run_ids=[c.info.run_id]).set_index("genre")
        assert own["n"].to_dict() == {"speech": 3, "tweet": 3}


def test_per_source_precision_recall_and_confusion_and_the_surest_errors():
    import pandas as pd

    from stance.evaluation.error_analysis import most_confident_errors, per_source_labels

    labels = ["FAVOR", "AGAINST", "NONE"]
    preds = pd.DataFrame({
        "text": list("abcdefg"), "origin": ["tweets"] * 4 + ["debate"] * 3,
        "label":     ["FAVOR", "FAVOR", "AGAINST", "NONE", "AGAINST", "AGAINST", "NONE"],
        "predicted": ["FAVOR", "AGAINST", "FAVOR", "NONE", "AGAINST", "FAVOR", "NONE"],
        "confidence": [0.9, 0.8, 0.95, 0.7, 0.6, 0.55, 0.99]})
    t = per_source_labels(preds, labels, "test").set_index(["source", "label"])
    row = t.loc[("tweets", "AGAINST")]
    assert (row["n_gold"], row["n_predicted"], row["to_favor"], row["recall"], row["precision"]) == (1, 1, 1, 0.0, 0.0)
    row = t.loc[("debate", "AGAINST")]
    assert (row["n_gold"], row["recall"], row["precision"], row["to_favor"]) == (2, 0.5, 1.0, 1)
    assert t.loc[("tweets", "FAVOR"), "precision"] == 0.5
    surest = most_confident_errors(preds, k=2)
    assert surest["text"].tolist() == ["c", "b"] and list(surest.columns[:4]) == ["text", "label", "predicted",
                                                                                   "confidence"]
    # A set with no source column is one source, named after the set.
    assert set(per_source_labels(preds.drop(columns="origin"), labels, "realdev")["source"]) == {"realdev"}
