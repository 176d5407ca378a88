"""Calibration: the metrics on hand-computed cases, the fits on data with a known answer, the stored
calibrator on every load path, and the before/after numbers a training run logs."""
import json

import mlflow
import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, TARGET, shrunk_config
from stance import predict
from stance.config import TfidfConfig, load_config
from stance.data import DataConfig, load_data
from stance.evaluation.calibration_metrics import brier, ece, nll
from stance.models import load
from stance.models.calibrated import CalibratedModel, calibrate
from stance.models.calibrator import Calibrator, fit_temperature
from stance.models.tfidf import TfidfModel
from stance.workflows.training import train


def test_ece_and_brier_on_hand_computed_cases():
    proba = np.array([[.9, .05, .05], [.6, .3, .1], [.2, .7, .1], [.4, .35, .25]])
    y = [0, 1, 1, 0]  # right, wrong, right, right; each confidence in its own 1/15-wide bin
    assert ece(proba, y) == pytest.approx((0.1 + 0.6 + 0.3 + 0.6) / 4)
    # Brier: per row sum of squared errors against one-hot, then the mean.
    assert brier(proba, y) == pytest.approx((0.015 + 0.86 + 0.14 + 0.545) / 4)
    # Two confidences in one bin (0.62, 0.64), one right: |0.5 - 0.63|.
    assert ece(np.array([[.62, .2, .18], [.64, .3, .06]]), [0, 1]) == pytest.approx(0.13)
    assert nll(proba, y) == pytest.approx(-np.mean(np.log([.9, .3, .7, .4])))


def _overconfident(n: int, seed: int, t_true: float = 3.0):
    """Labels drawn from softmax(z); the 'model' reports softmax(t_true * z): too sure by a known factor."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.2, size=(n, 3))
    true_p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=p) for p in true_p])
    reported = np.exp(t_true * z) / np.exp(t_true * z).sum(axis=1, keepdims=True)
    return reported, y


def test_temperature_recovers_the_known_overconfidence_and_keeps_labels():
    dev, y_dev = _overconfident(4000, seed=0)
    test, y_test = _overconfident(4000, seed=1)
    t = fit_temperature(dev, y_dev)
    assert t == pytest.approx(3.0, rel=0.08)
    cal = Calibrator.fit(dev, y_dev, "temperature")
    after = cal(test)
    assert np.array_equal(after.argmax(axis=1), test.argmax(axis=1))
    assert np.allclose(after.sum(axis=1), 1)
    assert ece(test, y_test) > 0.1 and ece(after, y_test) < 0.03
    assert brier(after, y_test) < brier(test, y_test)


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_one_vs_rest_methods_lower_ece_on_held_out_data(method, tmp_path):
    dev, y_dev = _overconfident(3000, seed=2)
    test, y_test = _overconfident(3000, seed=3)
    cal = Calibrator.fit(dev, y_dev, method)
    after = cal(test)
    assert np.allclose(after.sum(axis=1), 1) and (after >= 0).all()
    assert ece(after, y_test) < 0.04 < 0.1 < ece(test, y_test)
    cal.save(tmp_path / "c.json")
    assert np.array_equal(Calibrator.load(tmp_path / "c.json")(test), after)  # JSON round trip is exact


def test_calibration_lowers_ece_on_the_bundled_corpus_tfidf():
    """The bundled corpus, the real baseline config: dev-fitted Platt scaling, scored on the test split."""
    # The corpus alone (a data.path layer replaces the config's sources), so the numbers do not depend on ../shared.
    cfg = load_config(ROOT / "configs" / "baseline.yaml",
                      [f"data.path={ROOT / 'data' / 'immigration_stance.jsonl'}", "data.exclude=null", "eval_sets=[]"])
    data = load_data(cfg.data, cfg.seed)
    model = TfidfModel(cfg.model, data.labels, cfg.seed)
    model.fit(data.train, data.dev)
    cal = calibrate(model, data.dev, cfg.model.calibration)
    assert cfg.model.calibration == "sigmoid"
    texts, targets = data.test["text"].tolist(), data.test["target"].tolist()
    y = [data.labels.index(lab) for lab in data.test["label"]]
    before, after = ece(model.predict_proba(texts, targets), y), ece(cal.predict_proba(texts, targets), y)
    assert before == pytest.approx(0.140, abs=0.01)
    assert after == pytest.approx(0.031, abs=0.01)  # 0.043 with min_df 1 (before issue 16)
    assert brier(cal.predict_proba(texts, targets), y) < brier(model.predict_proba(texts, targets), y)


@pytest.fixture
def fitted(tiny_corpus):
    data = load_data(DataConfig(path=str(tiny_corpus)), seed=1)
    model = TfidfModel(TfidfConfig(), data.labels, seed=1)
    model.fit(data.train, data.dev)
    return model, data


def test_calibrator_is_saved_with_the_model_and_applied_on_load(fitted, tmp_path):
    model, data = fitted
    cal = calibrate(model, data.dev, "temperature")
    assert isinstance(cal, CalibratedModel) and cal.kind == "tfidf" and cal.labels == model.labels
    cal.save(tmp_path / "m")
    saved = json.loads((tmp_path / "m" / "calibration.json").read_text())
    assert saved["method"] == "temperature" and saved["n_fit"] == len(data.dev)
    again = load(tmp_path / "m")
    texts = ["Honor every ICE detainer.", "Sanctuary keeps us safe.", "The fair opens Friday."]
    raw = model.predict_proba(texts, [TARGET] * 3)
    expected = np.exp(np.log(raw) / saved["temperature"])
    expected /= expected.sum(axis=1, keepdims=True)
    assert isinstance(again, CalibratedModel)
    assert np.allclose(again.predict_proba(texts, [TARGET] * 3), expected)
    assert np.allclose(again.base.predict_proba(texts, [TARGET] * 3), raw)  # the uncalibrated ones
    p = predict(texts[0], model=str(tmp_path / "m"))  # the public API goes through the same load
    assert p.scores["FAVOR"] == pytest.approx(expected[0, 0])
    assert again.top_features(3).keys() == model.top_features(3).keys()  # kind extras still reachable
    assert calibrate(model, data.dev, "none") is model


def test_training_run_logs_before_after_metrics_and_reliability_diagram(tiny_corpus, tracking_uri):
    result = train(shrunk_config("baseline.yaml", tiny_corpus))
    run = mlflow.get_run(result.run_id)
    assert run.data.params["fit.calibration"] == "sigmoid"
    assert (result.model_dir / "calibration.json").is_file()
    # The logged numbers are those of the logged (calibrated) test predictions.
    preds = pd.read_csv(mlflow.artifacts.download_artifacts(run_id=result.run_id,
                                                            artifact_path="eval/predictions_test.csv"))
    proba = preds[["p_favor", "p_against", "p_none"]].to_numpy()
    y = [["FAVOR", "AGAINST", "NONE"].index(lab) for lab in preds["label"]]
    assert run.data.metrics["test_ece"] == pytest.approx(ece(proba, y))
    assert run.data.metrics["test_brier"] == pytest.approx(brier(proba, y))
    for name in ("test_ece_uncalibrated", "test_brier_uncalibrated", "dev_ece", "test_nll"):
        assert name in run.data.metrics
    png = mlflow.artifacts.download_artifacts(run_id=result.run_id, artifact_path="eval/reliability_test.png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_calibration_none_stores_no_calibrator_and_metrics_agree(tiny_corpus, tracking_uri):
    cfg = shrunk_config("baseline.yaml", tiny_corpus, extra=("tracking.log_model=false",), calibration="none")
    result = train(cfg)
    m = mlflow.get_run(result.run_id).data.metrics
    assert not (result.model_dir / "calibration.json").exists()
    assert m["test_ece"] == m["test_ece_uncalibrated"] and m["test_brier"] == m["test_brier_uncalibrated"]


def test_brier_matches_scikit_learn_multiclass_definition():
    from sklearn.metrics import brier_score_loss

    proba, y = _overconfident(200, seed=5)
    assert brier(proba, y) == pytest.approx(brier_score_loss(y, proba, labels=[0, 1, 2]))
