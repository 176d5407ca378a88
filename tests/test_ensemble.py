"""The ensemble kind (issue 25): members of any kind combined, fitted on dev, saved and registered as one model."""
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, TARGET, shrunk_config, tfidf_member_config, tiny_rows, write_jsonl
from stance import models, predict
from stance.config import ConfigError, load_config
from stance.models.calibrated import uncalibrated
from stance.workflows.training import train


@pytest.fixture
def members(tmp_path, tiny_corpus, tracking_uri):
    words = train(load_config(tfidf_member_config(tmp_path, "words", tiny_corpus, char_ngrams=[3, 3], min_df=1)))
    chars = train(load_config(tfidf_member_config(tmp_path, "chars", tiny_corpus, word_ngrams=[1, 1], C=0.1)))
    return words, chars


def _ensemble(tiny_corpus, refs, extra=(), **model):
    """configs/ensemble.yaml (stacking) on the tiny corpus; weighted averaging unless a test names the combiner."""
    return shrunk_config("ensemble.yaml", tiny_corpus, extra, members=refs, **{"combiner": "weighted", **model})


def test_weighted_ensemble_is_the_weighted_average_of_its_members(members, tiny_corpus, tracking_uri):
    words, chars = members
    # A folder and a registered version: members may be named either way.
    result = train(_ensemble(tiny_corpus, [str(words.model_dir), chars.registered]))
    assert result.registered == "models:/stance-ensemble/1"
    ens = uncalibrated(models.load(result.model_dir))
    assert ens.kind == "ensemble" and ens.member_names == ["tfidf1", "tfidf2"]
    assert ens.weights.sum() == pytest.approx(1.0) and (ens.weights >= 0).all()
    texts = [r["text"] for r in tiny_rows()]
    targets = [TARGET] * len(texts)
    expected = sum(w * models.load(m.model_dir).predict_proba(texts, targets)
                   for w, m in zip(ens.weights, members))
    np.testing.assert_allclose(ens.predict_proba(texts, targets), expected, atol=1e-9)
    # Calibration (temperature) never changes a label; the registered model answers like the folder.
    by_uri = predict(texts, model=result.registered)
    assert [p.label for p in by_uri] == [ens.labels[i] for i in expected.argmax(1)]
    assert result.metrics["test_macro_f1"] >= 0.0 and "dev_macro_f1" in result.metrics


def test_given_weights_are_kept_and_the_fit_reports_each_member(members, tiny_corpus, tracking_uri):
    words, chars = members
    result = train(_ensemble(tiny_corpus, [str(words.model_dir), str(chars.model_dir)], weights=[3, 1]))
    ens = uncalibrated(models.load(result.model_dir))
    np.testing.assert_allclose(ens.weights, [0.75, 0.25])
    import mlflow

    params = mlflow.get_run(result.run_id).data.params
    assert params["fit.weight_tfidf1"] == "0.75" and "fit.dev_macro_f1_tfidf2" in params


def test_stacking_learns_a_logistic_regression_on_dev(members, tiny_corpus, tracking_uri):
    words, chars = members
    result = train(_ensemble(tiny_corpus, [str(words.model_dir), str(chars.model_dir)], combiner="stacking",
                             calibration="none"))
    ens = models.load(result.model_dir)
    assert ens.weights is None and np.asarray(ens.stacker["coef"]).shape == (3, 6)
    proba = ens.predict_proba(["Deport every criminal alien and build the wall now."], [TARGET])
    assert proba.shape == (1, 3) and proba.sum() == pytest.approx(1.0)
    shares = ens.shares(["Deport every criminal alien and build the wall now."], [TARGET])[0]
    assert set(shares) == {"tfidf1", "tfidf2"} and sum(s["share"] for s in shares.values()) == pytest.approx(1.0)


def test_member_configs_are_trained_first_each_in_its_own_run(tmp_path, tiny_corpus, tracking_uri):
    refs = [tfidf_member_config(tmp_path, "words", tiny_corpus, char_ngrams=[3, 3]),
            tfidf_member_config(tmp_path, "chars", tiny_corpus, word_ngrams=[1, 1])]
    result = train(_ensemble(tiny_corpus, refs, extra=("seed=14", "tracking.experiment=seeded")))
    import mlflow

    names = {r.name for r in mlflow.search_registered_models()}
    assert {"stance-words", "stance-chars", "stance-ensemble"} <= names
    assert len(models.load(result.model_dir).members) == 2
    # The members were trained with the ensemble's seed, in its experiment (an experiment's seeds reach them).
    runs = mlflow.search_runs(experiment_names=["seeded"])
    assert len(runs) == 3 and set(runs["params.seed"]) == {"14"}


def test_an_ensemble_of_tfidf_members_never_imports_torch(members, tiny_corpus, tracking_uri):
    words, chars = members
    result = train(_ensemble(tiny_corpus, [str(words.model_dir), str(chars.model_dir)]))
    code = ("import sys; from stance import predict; "
            f"p = predict('Deport them all.', model={str(result.model_dir.resolve())!r}); "
            "print(p.label, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split()[-1] == "False", out.stdout


def test_a_member_with_other_labels_is_refused(tmp_path, tiny_corpus, tracking_uri):
    two = write_jsonl(tmp_path / "two.jsonl", [r for r in tiny_rows() if r["label"] != "NONE"])
    other = train(load_config(tfidf_member_config(tmp_path, "two", two, **{}), ["data.labels=[FAVOR, AGAINST]"]))
    base = train(load_config(tfidf_member_config(tmp_path, "three", tiny_corpus)))
    with pytest.raises(ValueError, match="members must share the label set"):
        train(_ensemble(tiny_corpus, [str(base.model_dir), str(other.model_dir)]))


def test_ensemble_config_errors_name_the_problem(tiny_corpus):
    with pytest.raises(ConfigError, match="2 weights for 3 members"):
        _ensemble(tiny_corpus, ["a", "b", "c"], weights=[1, 1])
    with pytest.raises(ConfigError, match="members"):
        _ensemble(tiny_corpus, ["only-one"])
    with pytest.raises(ConfigError, match="finite, non-negative"):
        _ensemble(tiny_corpus, ["a", "b"], weights=[-1, 2])


def test_explain_shows_each_members_scores_and_share(members, tiny_corpus, tracking_uri):
    from stance.workflows.explain import explain, render_terminal

    words, chars = members
    result = train(_ensemble(tiny_corpus, [str(words.model_dir), str(chars.model_dir)]))
    ens = models.load(result.model_dir)
    e = explain("Deport every criminal alien and build the wall now.", ens)[0]
    assert set(e.members) == {"tfidf1", "tfidf2"}
    assert sum(m["share"] for m in e.members.values()) == pytest.approx(1.0)
    inner = uncalibrated(ens)
    for name, member, w in zip(inner.member_names, inner.members, inner.weights):
        p = member.predict_proba([e.text], [TARGET])[0]
        assert e.members[name]["scores"] == pytest.approx(dict(zip(ens.labels, p)))
    text = render_terminal(e, color=False)
    assert "member tfidf1:" in text and "of the decision" in text
    assert "members" in e.to_dict()
