"""Abstention: min_confidence in predict (API and CLI), and the coverage-accuracy curve of `stance evaluate`."""
import json
import subprocess
import sys

import mlflow
import numpy as np
import pandas as pd
import pytest

from conftest import TARGET
from stance import predict
from stance.cli import main
from stance.config import TfidfConfig
from stance.evaluation.coverage import coverage_table
from stance.data import DataConfig, load_data
from stance.models.calibrated import calibrate
from stance.models.tfidf import TfidfModel

TEXTS = ["Deport the criminal aliens and build the wall.", "Protect immigrant families from deportation raids.",
         "The library meets on Tuesday.", "Sheriffs and mayors met about detainers and grants."]


@pytest.fixture
def saved(tiny_corpus, tmp_path):
    data = load_data(DataConfig(path=str(tiny_corpus)), seed=1)
    model = TfidfModel(TfidfConfig(), data.labels, seed=1)
    model.fit(data.train, data.dev)
    model = calibrate(model, data.dev, "temperature")
    model.save(tmp_path / "model")
    return model, tmp_path / "model"


def test_min_confidence_marks_low_scores_and_keeps_label_and_scores(saved):
    model, _ = saved
    plain = predict(TEXTS, model=model)
    conf = sorted(max(p.scores.values()) for p in plain)
    threshold = (conf[1] + conf[2]) / 2  # two below, two above
    marked = predict(TEXTS, model=model, min_confidence=threshold)
    assert [p.abstained for p in marked] == [max(p.scores.values()) < threshold for p in plain]
    assert sum(p.abstained for p in marked) == 2
    assert [(p.label, p.scores) for p in marked] == [(p.label, p.scores) for p in plain]
    assert not any(p.abstained for p in plain)
    assert all(p.abstained for p in predict(TEXTS, model=model, min_confidence=1.0))
    assert predict(TEXTS[0], model=model, min_confidence=0.0).abstained is False
    with pytest.raises(ValueError, match="min_confidence must be between 0 and 1, got 1.5"):
        predict(TEXTS, model=model, min_confidence=1.5)


def test_cli_min_confidence_writes_abstained_flags(saved):
    model, path = saved
    plain = predict(TEXTS, model=model)
    threshold = sorted(max(p.scores.values()) for p in plain)[2]  # exactly the third: it is answered
    out = subprocess.run([sys.executable, "-m", "stance.cli", "predict", "--model", str(path), "--min-confidence",
                          str(threshold), *TEXTS], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["abstained"] for r in rows] == [max(p.scores.values()) < threshold for p in plain]
    assert [r["label"] for r in rows] == [p.label for p in plain]
    assert sum(r["abstained"] for r in rows) == 2


def test_coverage_table_on_hand_computed_scores():
    proba = np.array([[.9, .05, .05], [.8, .1, .1], [.2, .5, .3], [.4, .3, .3]])
    gold = ["FAVOR", "AGAINST", "AGAINST", "FAVOR"]  # right, wrong, right, right
    t = coverage_table(gold, proba, ["FAVOR", "AGAINST", "NONE"]).set_index("min_confidence")
    assert t.loc[0.0, "coverage"] == 1.0 and t.loc[0.0, "accuracy"] == 0.75
    assert t.loc[0.45, "n_answered"] == 3 and t.loc[0.45, "accuracy"] == pytest.approx(2 / 3)
    assert t.loc[0.85, "n_answered"] == 1 and t.loc[0.85, "accuracy"] == 1.0 and t.loc[0.85, "coverage"] == 0.25
    # F1 of FAVOR 1, AGAINST 0 (its one answered item is wrong), NONE 0 (absent: zero_division=0).
    assert t.loc[0.75, "macro_f1"] == pytest.approx((2 / 3 + 0 + 0) / 3)
    assert t.index.max() == 0.9  # nothing is answered at 0.95, so the table stops


def test_evaluate_reports_coverage_curve_as_table_and_plot(saved, tiny_corpus, tracking_uri, tmp_path, capsys):
    model, path = saved
    assert main(["evaluate", "--model", str(path), "--data", str(tiny_corpus), "--name", "tiny",
                 "--out", str(tmp_path / "ev")]) == 0
    out = capsys.readouterr().out
    assert "coverage (answer only when the top score >= min_confidence" in out
    rows = [json.loads(x) for x in (tiny_corpus.read_text().splitlines())]
    proba = model.predict_proba([r["text"] for r in rows], [TARGET] * len(rows))
    expected = coverage_table([r["label"] for r in rows], proba, model.labels)
    run = mlflow.search_runs(experiment_names=["stance-evaluate"], output_format="list")[0]
    logged = mlflow.load_table("eval/coverage_tiny.json", run_ids=[run.info.run_id])
    pd.testing.assert_frame_equal(logged[expected.columns], expected, check_dtype=False)
    assert (tmp_path / "ev" / run.info.run_id / "coverage_tiny.png").read_bytes()[:4] == b"\x89PNG"
    assert run.data.metrics["tiny_ece_uncalibrated"] >= 0 and "tiny_brier" in run.data.metrics
