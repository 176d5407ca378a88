"""Cold start (issues 16 and 29): what a one-off command imports, checked in fresh child processes (nothing timed
here).

A TF-IDF prediction from a saved folder imports no torch, transformers, scikit-learn, skops, scipy or pandas
(issue 29: `import sklearn` alone is 1.2-2.4 s here); `models:/` references in a local sqlite store are answered
without MLflow; `stance --help` imports none of them. benchmarks/cold_start.py measures the resulting times.
"""
import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT, TARGET, tiny_rows
from stance.config import TfidfConfig
from stance.models import build

HEAVY = ("torch", "transformers", "mlflow", "sklearn", "skops", "scipy", "pandas")
NOT_FOR_A_SAVED_TFIDF = {"torch", "transformers", "mlflow", "sklearn", "skops", "scipy", "pandas"}


def imported_after(code: str, cwd=None) -> dict:
    """Run `code` in a fresh interpreter; returns {"heavy": modules of HEAVY it imported, "out": what it printed}."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=cwd or ROOT,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    *out, heavy = proc.stdout.strip().splitlines()
    return {"heavy": json.loads(heavy), "out": "\n".join(out)}


@pytest.fixture(scope="module")
def tfidf_dir(tmp_path_factory):
    rows = pd.DataFrame(tiny_rows())
    model = build(TfidfConfig(), ["FAVOR", "AGAINST", "NONE"], 13)
    model.fit(rows, rows)
    path = tmp_path_factory.mktemp("cold") / "model"
    model.save(path)
    return path


def test_tfidf_prediction_through_the_library_imports_no_torch(tfidf_dir):
    text = "Deport every criminal alien and build the wall now."
    found = imported_after(f"from stance import predict\nprint(predict({text!r}, model={str(tfidf_dir)!r}).label)")
    assert found["out"] == "FAVOR"
    assert not NOT_FOR_A_SAVED_TFIDF & set(found["heavy"]), found["heavy"]


def test_tfidf_stance_predict_imports_no_torch(tfidf_dir):
    argv = ["predict", "--json", "--model", str(tfidf_dir), "Build the wall now."]
    found = imported_after(f"from stance.cli import main\nassert main({argv!r}) == 0")
    assert json.loads(found["out"])["target"] == TARGET
    assert not NOT_FOR_A_SAVED_TFIDF & set(found["heavy"]), found["heavy"]


def test_registered_tfidf_model_predicts_without_torch(tmp_path, tiny_corpus):
    """The issue's command: `stance predict --model models:/NAME/latest` through an MLflow registry."""
    store = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    train = (f"import os; os.environ.update({store!r})\n"
             f"from stance.cli import main\n"
             f"assert main(['train', {str(ROOT / 'configs' / 'baseline.yaml')!r}, '--set', 'data.path={tiny_corpus}', "
             f"'--set', 'data.exclude=null', '--set', 'eval_sets=[]', '--set', 'output_dir={tmp_path}/out']) == 0")
    imported_after(train, cwd=tmp_path)  # ./mlruns lands in tmp_path
    found = imported_after(f"import os; os.environ.update({store!r})\nfrom stance.cli import main\n"
                           f"assert main(['predict', '--json', '--model', 'models:/stance-tfidf/latest', "
                           f"'Deport every criminal alien and build the wall now.']) == 0", cwd=tmp_path)
    assert json.loads(found["out"].splitlines()[-1])["label"] == "FAVOR"
    # The registry was read from the sqlite file itself: no MLflow, and no scikit-learn or torch for the model.
    assert not NOT_FOR_A_SAVED_TFIDF & set(found["heavy"]), found["heavy"]


@pytest.mark.parametrize("argv", [["--help"], ["predict", "--help"]])
def test_help_imports_no_torch_mlflow_or_sklearn(argv):
    found = imported_after(f"from stance.cli import main\n"
                           f"try:\n    main({argv!r})\nexcept SystemExit as e:\n    assert e.code == 0")
    assert "usage: stance" in found["out"]
    assert found["heavy"] == []


def test_skops_trusts_the_same_types_when_imported_without_torch():
    """stance.models.skops_io skips sklearn's torch shim while skops.io builds its trusted-type lists; the lists
    must be exactly those a plain `import skops.io` builds (which imports torch when it is installed)."""
    lists = ("SKLEARN_ESTIMATOR_TYPE_NAMES", "SKLEARN_INTERNAL_TYPE_NAMES", "SCIPY_UFUNC_TYPE_NAMES",
             "NUMPY_UFUNC_TYPE_NAMES", "NUMPY_DTYPE_TYPE_NAMES", "PRIMITIVE_TYPE_NAMES", "CONTAINER_TYPE_NAMES")
    dump = (f"from skops.io import _trusted_types as t\n"
            f"print(json.dumps({{n: sorted(getattr(t, n)) for n in {lists!r}}}))")
    ours = imported_after(f"import json\nfrom stance.models.skops_io import import_skops_io\nimport_skops_io()\n{dump}")
    plain = imported_after(f"import json\nimport skops.io\n{dump}")
    assert "torch" not in ours["heavy"]
    assert json.loads(ours["out"]) == json.loads(plain["out"])
    assert len(json.loads(ours["out"])["SKLEARN_ESTIMATOR_TYPE_NAMES"]) > 100
