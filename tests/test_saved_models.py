"""Models saved before the package redesign (issue 28) still load: tests/fixtures/model_from_main was trained, saved
and logged as an MLflow pyfunc by main at adc9030 (see its README). Its entry file imports stance.serving, the one
module kept at its old path for such models."""
from __future__ import annotations

import shutil

import mlflow
import pandas as pd
import pytest

import stance
from conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "model_from_main"
TEXTS = ["Deport every criminal alien and build the wall now.",
         "Sanctuary cities protect families and keep communities safe.",
         "The council meets on Tuesday."]
EXPECTED = ["FAVOR", "AGAINST", "NONE"]  # what main's code answered for these statements


@pytest.fixture
def model_dir(tmp_path):
    copy = tmp_path / "model_from_main"
    shutil.copytree(FIXTURE, copy)  # MLflow may write beside the model when it loads it: never into the repo
    return copy


def test_the_saved_stance_model_of_main_loads_and_predicts(model_dir):
    preds = stance.predict(TEXTS, str(model_dir / "artifacts" / "saved"))
    assert [p.label for p in preds] == EXPECTED


def test_the_mlflow_pyfunc_logged_by_main_loads_through_its_old_entry_point(model_dir):
    assert "from stance.serving import StancePyfunc" in (model_dir / "pyfunc_entry.py").read_text()
    pyfunc = mlflow.pyfunc.load_model(str(model_dir))
    out = pyfunc.predict(pd.DataFrame({"text": TEXTS}))
    assert list(out["label"]) == EXPECTED
    direct = stance.predict(TEXTS, str(model_dir / "artifacts" / "saved"))
    for (_, row), p in zip(out.iterrows(), direct):
        assert {lab: row[lab] for lab in p.scores} == pytest.approx(p.scores)
