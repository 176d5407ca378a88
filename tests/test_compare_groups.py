"""`stance compare` groups runs by their config minus the seed, never by kind alone, and says when a group has
one seed (no ±)."""
import mlflow

from conftest import shrunk_config
from stance.cli import main
from stance.workflows.compare import compare_runs
from stance.workflows.training import train


def test_different_settings_are_different_rows_and_one_seed_has_no_spread(tiny_corpus, tracking_uri, capsys):
    same = ("tracking.experiment=cmp-groups",)
    runs = [train(shrunk_config("baseline.yaml", tiny_corpus, extra=same)),
            train(shrunk_config("baseline.yaml", tiny_corpus, extra=same)),
            train(shrunk_config("baseline.yaml", tiny_corpus, extra=(*same, "model.C=0.0001")))]
    tags = [mlflow.get_run(r.run_id).data.tags["stance.config_hash"] for r in runs]
    assert tags[0] == tags[1] != tags[2]

    report = compare_runs(experiment="cmp-groups", n_resamples=200)
    table = report.table.set_index("model")
    # Named by what tells them apart; the two C=1 runs (both seed 13) are one group, with no spread to show.
    assert sorted(table.index) == ["tfidf C=0.0001", "tfidf C=1.0"]
    assert table.loc["tfidf C=1.0", "runs"] == 2 and table.loc["tfidf C=1.0", "seeds"] == "13"
    assert report.metric == "test_macro_f1" and list(report.table.columns)[4] == "test_macro_f1"
    shown = report.formatted().set_index("model").loc["tfidf C=1.0", "test_macro_f1"]
    assert "±" not in shown and float(shown) == round(runs[0].metrics["test_macro_f1"], 3)
    assert "One seed, so no ±: tfidf C=0.0001, tfidf C=1.0." in report.markdown
    best = "tfidf C=1.0" if table.loc["tfidf C=1.0", "test_macro_f1"] >= table.loc["tfidf C=0.0001",
                                                                                   "test_macro_f1"] else "tfidf C=0.0001"
    assert report.bootstraps[0].a == best and report.bootstraps[0].metric == "test macro_f1"

    assert main(["compare", "--experiment", "cmp-groups", "--resamples", "100", "--out", "cmp"]) == 0
    assert "Headline: test_macro_f1." in capsys.readouterr().out
