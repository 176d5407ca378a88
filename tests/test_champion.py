"""The champion (issue 25): models:/stance@champion is the best dev macro-F1 among models that pass >= 90% of the
behavioural suite, and what stance.predict / stance predict use when no model is named."""
import json
import math

import mlflow
import pytest

from conftest import FAVOR, TARGET, shrunk_config, tiny_rows, write_jsonl
from stance import predict
from stance.cli import main
from stance.workflows.promote import promote
from stance.tracking.registry import choose_champion
from stance.workflows.training import train


def test_the_rule_takes_the_best_dev_score_among_models_that_pass_the_suite():
    winner, account = choose_champion({
        "a": {"dev_macro_f1": 0.90, "behaviour_pass_rate": 0.89},   # best dev, fails the suite
        "b": {"dev_macro_f1": 0.80, "behaviour_pass_rate": 0.95},
        "c": {"dev_macro_f1": 0.85, "behaviour_pass_rate": 0.91},
        "d": {"dev_macro_f1": 0.99},                                # never checked
        "e": {"dev_macro_f1": math.nan, "behaviour_pass_rate": 1.0},
    })
    assert winner == "c"
    assert "behavioural suite 0.890 < 0.90" in account and "no behavioural suite score" in account
    assert "| c | 0.850 | 0.910 | eligible |" in account
    assert choose_champion({"a": {"dev_macro_f1": 0.9, "behaviour_pass_rate": 0.5}})[0] is None


def _suite(tmp_path, name, flip=False):
    """A suite the tiny model answers right (its own training statements), or gets wrong (labels rotated)."""
    rot = {"FAVOR": "AGAINST", "AGAINST": "NONE", "NONE": "FAVOR"}
    rows = [{"id": f"s{i}", "text": r["text"], "label": rot[r["label"]] if flip else r["label"],
             "capability": "mft_plain"} for i, r in enumerate(tiny_rows()) if r["split"] == "train"]
    return write_jsonl(tmp_path / name, rows)


def _train(tiny_corpus, suite, name, **model):
    return train(shrunk_config("baseline.yaml", tiny_corpus, (f"behaviour.path={suite}", f"behaviour.target={TARGET}",
                                                              f"tracking.registered_model={name}"), **model))


def test_promote_registers_the_winner_and_predict_uses_it_by_default(tiny_corpus, tracking_uri, tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="no champion model .* `stance promote`"):
        predict("Deport them all.")
    good = _train(tiny_corpus, _suite(tmp_path, "ok.jsonl"), "stance-good")
    bad = _train(tiny_corpus, _suite(tmp_path, "flipped.jsonl", flip=True), "stance-bad", C=10.0)
    assert good.metrics["behaviour_pass_rate"] >= 0.9 > bad.metrics["behaviour_pass_rate"]
    p = promote()
    assert (p.champion, p.chosen_from) == ("models:/stance/1", good.registered)
    version = mlflow.MlflowClient().get_model_version_by_alias("stance", "champion")
    assert "Champion: models:/stance-good/1" in version.description and version.tags["stance.run_id"] == good.run_id
    texts = FAVOR[:3]
    assert [x.scores for x in predict(texts)] == [x.scores for x in predict(texts, model=good.registered)]
    # Promoting the same model again registers nothing new.
    assert promote([good.registered, bad.registered]).champion == "models:/stance/1"
    assert main(["predict", "--json", texts[0]]) == 0
    out = capsys.readouterr()
    assert "model models:/stance@champion = stance/1" in out.err
    assert json.loads(out.out)["label"] == predict(texts[0], model=good.registered).label


def test_promote_changes_nothing_when_no_model_qualifies(tiny_corpus, tracking_uri, tmp_path, capsys):
    _train(tiny_corpus, _suite(tmp_path, "flipped.jsonl", flip=True), "stance-bad")
    assert main(["promote"]) == 1
    assert "**No champion**" in capsys.readouterr().out
    assert not [m for m in mlflow.MlflowClient().search_registered_models() if m.name == "stance"]
