"""Which `stance` a logged pyfunc runs (issue 29, "MLflow's own tools").

Models used to carry the package as MLflow code_paths, which MLflow puts first on sys.path: in a fresh process,
`mlflow.models.validate_serving_input` on the TF-IDF model imported stance from that model's temporary copy, MLflow
deleted the copy, and the transformer then failed with "No module named 'stance.models.transformer'". Now the
installed stance is used when there is one (never shadowed), and the copy logged with the model only where there is
none. Both cases, in fresh processes, with two models of both kinds loaded one after the other by MLflow's loaders.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, private_store, shrunk_config, write_jsonl, tiny_rows

pytestmark = pytest.mark.slow  # uses the tiny registered transformer (trained once per session)

INPUT = json.dumps({"dataframe_records": [{"text": "Deport every criminal alien and build the wall now."}]})
# Run in a fresh interpreter: validate_serving_input (MLflow's pre-deployment check: download to a temporary folder,
# load, predict, delete) on each model, then both loaded again with mlflow.pyfunc.load_model.
PROBE = f"""
import json, sys
from pathlib import Path
HIDE_INSTALLED = sys.argv[1] == "hidden"
if HIDE_INSTALLED:  # a process where stance is not installed: drop every path (and editable finder) that has it
    sys.path[:] = [p for p in sys.path if not (Path(p or ".") / "stance" / "__init__.py").is_file()]
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__name__.lower()]
import mlflow, pandas as pd
from mlflow.models import validate_serving_input
out = {{}}
for name in ("stance-tfidf", "stance-transformer"):
    found = validate_serving_input(f"models:/{{name}}/latest", {INPUT!r})
    out[name] = list(found["label"])
for name in ("stance-tfidf", "stance-transformer"):
    model = mlflow.pyfunc.load_model(f"models:/{{name}}/latest")
    out[name] += list(model.predict(pd.DataFrame({{"text": ["Build the wall now."]}}))["label"])
out["stance"] = sys.modules["stance"].__file__
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def two_models(registered_transformer):
    """The session's registered transformer, and a TF-IDF model registered in the same store."""
    from stance.workflows.training import train

    uri, _ = registered_transformer
    tmp = Path(uri[len("sqlite:///"):]).parent
    corpus = write_jsonl(tmp / "tiny-tfidf.jsonl", tiny_rows())
    with private_store(tmp):
        train(shrunk_config("baseline.yaml", corpus, min_df=1))
    return uri, tmp


def probe(two_models, how: str) -> dict:
    uri, tmp = two_models
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    if how == "installed":  # this checkout's code first, as the other tests import it
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    else:
        env.pop("PYTHONPATH", None)
    proc = subprocess.run([sys.executable, "-c", PROBE, how], capture_output=True, text=True, env=env, cwd=tmp,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_two_models_of_both_kinds_use_the_installed_stance_and_never_shadow_it(two_models):
    out = probe(two_models, "installed")
    assert out["stance-tfidf"] == ["FAVOR", "FAVOR"] and len(out["stance-transformer"]) == 2
    assert out["stance"] == str(ROOT / "src" / "stance" / "__init__.py")  # not a model's copy


def test_without_an_installed_stance_each_model_brings_its_own_complete_copy(two_models):
    out = probe(two_models, "hidden")
    assert out["stance-tfidf"] == ["FAVOR", "FAVOR"] and len(out["stance-transformer"]) == 2
    assert f"{os.sep}stance_code{os.sep}stance{os.sep}" in out["stance"]  # a model's copy, still on disk
    assert Path(out["stance"]).is_file()


def test_the_entry_file_looks_for_the_copy_where_training_logs_it():
    from stance.prediction.pyfunc import CODE_DIR, ENTRY_FILE

    assert f'"artifacts" / "{CODE_DIR}"' in ENTRY_FILE.read_text()
