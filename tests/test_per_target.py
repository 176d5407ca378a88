"""model.per_target: one classifier per target, routed by target, saved/tracked/served as one model."""
import mlflow
import numpy as np
import pandas as pd
import pytest

from conftest import AGAINST, FAVOR, NONE, TARGET, shrunk_config, tiny_rows, write_jsonl
from stance import models, predict
from stance.config import TfidfConfig
from stance.workflows.explain import explain
from stance.models.per_target import PerTargetModel, UnseenTargetError
from stance.workflows.training import train

OTHER = "a second policy target"


def two_target_frame() -> pd.DataFrame:
    """The tiny corpus toward TARGET, and toward OTHER with the labels of FAVOR and AGAINST swapped: a pooled
    model without the target cannot get both right, per-target classifiers can."""
    rows = tiny_rows()
    swap = {"FAVOR": "AGAINST", "AGAINST": "FAVOR", "NONE": "NONE"}
    rows += [{**r, "target": OTHER, "label": swap[r["label"]], "text": r["text"] + " (second)"} for r in rows]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def fitted():
    df = two_target_frame()
    model = models.build(TfidfConfig(per_target=True), ["FAVOR", "AGAINST", "NONE"], seed=1)
    assert isinstance(model, PerTargetModel)
    info = model.fit(df[df.split == "train"], df[df.split == "dev"])
    assert info["n_targets"] == 2
    return model, df


def test_each_target_is_scored_by_its_own_classifier(fitted):
    model, df = fitted
    texts = [FAVOR[0], AGAINST[0], NONE[0]]
    assert model.predict(texts, [TARGET] * 3) == ["FAVOR", "AGAINST", "NONE"]
    assert model.predict(texts, [OTHER] * 3) == ["AGAINST", "FAVOR", "NONE"]
    # Mixed targets in one call come back in input order, each row from its target's classifier.
    mixed = model.predict_proba(texts * 2, [TARGET, OTHER] * 3)
    alone = {t: model.for_target(t).predict_proba(texts * 2, [t] * 6) for t in (TARGET, OTHER)}
    for i, t in enumerate([TARGET, OTHER] * 3):
        assert np.allclose(mixed[i], alone[t][i])


def test_saved_model_loads_as_one_model_with_the_same_scores(fitted, tmp_path):
    model, _ = fitted
    model.save(tmp_path / "m")
    loaded = models.load(tmp_path / "m")
    assert loaded.kind == "tfidf" and loaded.per_target and loaded.targets == sorted([TARGET, OTHER])
    texts = [FAVOR[1], AGAINST[1], NONE[1]]
    for t in (TARGET, OTHER):
        assert np.allclose(loaded.predict_proba(texts, [t] * 3), model.predict_proba(texts, [t] * 3))
    # A damaged target classifier is caught by the checksums like any model file.
    victim = next((tmp_path / "m" / "t0").glob("*.safetensors"))
    victim.write_bytes(victim.read_bytes()[:-10])
    with pytest.raises(models.CorruptModelError, match="t0"):
        models.load(tmp_path / "m")


def test_unseen_target_and_single_label_target_are_named(fitted):
    model, df = fitted
    with pytest.raises(UnseenTargetError, match="'never trained on'.*known targets"):
        model.predict_proba(["x"], ["never trained on"])
    one_label = df[(df.split == "train") & ((df.target == TARGET) | (df.label == "NONE"))]
    fresh = models.build(TfidfConfig(per_target=True), ["FAVOR", "AGAINST", "NONE"], seed=1)
    with pytest.raises(ValueError, match=f"target '{OTHER}' has only label"):
        fresh.fit(one_label, one_label)


def test_linear_explanation_reads_the_targets_own_classifier(fitted):
    model, _ = fitted
    ex_a, ex_b = (explain("Deport every criminal alien and build the wall now.", model, target=t)[0]
                  for t in (TARGET, OTHER))
    assert ex_a.method == ex_b.method == "linear"
    assert (ex_a.label, ex_b.label) == ("FAVOR", "AGAINST")
    assert dict(ex_a.word_scores)["Deport"] > 0


def test_train_tracks_and_serves_a_per_target_model(tmp_path, tracking_uri):
    data = write_jsonl(tmp_path / "two.jsonl", two_target_frame().to_dict("records"))
    result = train(shrunk_config("baseline.yaml", data, per_target=True, min_df=1))
    run = mlflow.get_run(result.run_id)
    assert run.data.params["model.per_target"] == "True" and run.data.params["fit.n_targets"] == "2"
    pooled = train(shrunk_config("baseline.yaml", data, min_df=1))  # the tiny corpus needs every n-gram
    # The swapped labels are learnable per target; one pooled model has only a one-hot target to tell them apart.
    assert run.data.metrics["test_macro_f1"] > pooled.metrics["test_macro_f1"] + 0.1
    got = predict([AGAINST[2], AGAINST[2]], model=result.registered, target=[TARGET, OTHER])
    assert [p.label for p in got] == ["AGAINST", "FAVOR"]
    out = mlflow.pyfunc.load_model(result.model_uri).predict(
        pd.DataFrame({"text": [FAVOR[3]], "target": [OTHER]}))
    assert out["label"].tolist() == ["AGAINST"]


@pytest.mark.slow
def test_per_target_transformer_saves_loads_and_switches_paths(tmp_path):
    from stance.config import TransformerConfig

    df = two_target_frame()
    cfg = TransformerConfig(per_target=True, epochs=1, batch_size=8, max_length=40, early_stopping_patience=None,
                            inference="fp32")
    model = models.build(cfg, ["FAVOR", "AGAINST", "NONE"], seed=1)
    model.fit(df[df.split == "train"], df[df.split == "dev"], work_dir=tmp_path / "work")
    model.save(tmp_path / "m")
    loaded = models.load(tmp_path / "m", inference="bf16")
    assert loaded.kind == "transformer" and {m.inference for m in loaded.models.values()} == {"bf16"}
    loaded.set_inference("fp32")
    texts = [FAVOR[0], AGAINST[0]]
    for t in (TARGET, OTHER):
        assert np.allclose(loaded.predict_proba(texts, [t] * 2), model.predict_proba(texts, [t] * 2), atol=1e-5)


def test_refit_on_dev_trains_the_final_model_on_dev_too_and_keeps_the_calibrator(tmp_path, tracking_uri):
    rows = tiny_rows()
    dev_word = "zanzibarque"  # a word only dev statements have: only a model fitted on dev knows it
    rows = [{**r, "text": f"{r['text']} {dev_word}"} if r["split"] == "dev" else r for r in rows]
    data = write_jsonl(tmp_path / "tiny.jsonl", rows)
    plain = train(shrunk_config("baseline.yaml", data, min_df=1))
    refit = train(shrunk_config("baseline.yaml", data, min_df=1, refit_on_dev=True))
    assert "dev_macro_f1" in plain.metrics and "dev_macro_f1" not in refit.metrics  # dev is no longer held out
    assert dev_word not in _words(plain) and dev_word in _words(refit)
    # The calibrator fitted on the train-only model's dev predictions is the one saved with the refit model.
    assert models.load(refit.model_dir).calibrator.summary() == models.load(plain.model_dir).calibrator.summary()


def _words(result) -> set[str]:
    return set(models.load(result.model_dir).base.linear.word.terms)


def test_refit_on_dev_refuses_early_stopping_on_dev():
    from stance.config import TransformerConfig

    with pytest.raises(ValueError, match="early_stopping_patience: null"):
        TransformerConfig(refit_on_dev=True)
    assert TransformerConfig(refit_on_dev=True, early_stopping_patience=None).refit_on_dev
