"""`models:/` references read from a local sqlite store without MLflow (prediction/sqlite_registry.py, issue 29):
the same version and the same files as MLflow's registry answers, MLflow asked whenever the file cannot be sure,
and a registered version whose files were deleted said to be missing."""
from __future__ import annotations

import shutil
import sqlite3

import mlflow
import pytest

from conftest import private_store, shrunk_config, tiny_rows, write_jsonl
from stance import tracking
from stance.cli import main
from stance.prediction import sqlite_registry
from stance.prediction.refs import load_model

NAME = "stance-tfidf"  # configs/baseline.yaml's registered name


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Versions 1 and 2 (the same trained model registered twice), version 3 deleted, @champion on version 1."""
    from stance.workflows.training import train

    tmp = tmp_path_factory.mktemp("sqlite-registry")
    corpus = write_jsonl(tmp / "tiny.jsonl", tiny_rows())
    with private_store(tmp) as uri:
        result = train(shrunk_config("baseline.yaml", corpus, min_df=1))
        client = mlflow.MlflowClient()
        source = client.get_model_version(NAME, "1").source
        mlflow.register_model(source, NAME)
        mlflow.register_model(source, NAME)
        client.delete_model_version(NAME, "3")
        client.set_registered_model_alias(NAME, "champion", "1")
    return tmp, uri, result


@pytest.fixture
def in_store(store, monkeypatch):
    tmp, uri, result = store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp)
    load_model.cache_clear()
    return store


@pytest.mark.parametrize("ref, version", [(f"models:/{NAME}/latest", "2"), (f"models:/{NAME}/1", "1"),
                                          (f"models:/{NAME}@champion", "1")])
def test_references_resolve_to_mlflow_s_version_and_files(in_store, ref, version):
    found = sqlite_registry.lookup(ref)
    assert found is not None and found[0] == f"{NAME}/{version}"
    tracking.configure(None)
    assert tracking.resolve_model_uri(ref) == f"models:/{NAME}/{version}"
    assert found[1] == mlflow.MlflowClient().get_model_version_download_uri(NAME, version)


@pytest.mark.parametrize("ref", [f"models:/{NAME}/3", f"models:/{NAME}@nobody", "models:/no-such-model/latest",
                                 f"models:/{NAME}/Production", "runs:/0123/model", f"models:/{NAME}@latest"])
def test_what_the_file_cannot_answer_for_sure_goes_to_mlflow(in_store, ref):
    """A deleted version, an unknown alias or name, a stage, a run: None, so MLflow answers (and raises)."""
    assert sqlite_registry.lookup(ref) is None


@pytest.mark.parametrize("var", ["MLFLOW_REGISTRY_URI", "MLFLOW_WORKSPACE"])
def test_a_registry_or_workspace_set_elsewhere_goes_to_mlflow(in_store, monkeypatch, var):
    monkeypatch.setenv(var, "sqlite:///elsewhere.db" if var == "MLFLOW_REGISTRY_URI" else "team-a")
    assert sqlite_registry.lookup(f"models:/{NAME}/1") is None


def test_the_default_store_is_tracking_s():
    assert sqlite_registry.DEFAULT_URI == tracking.DEFAULT_URI


def test_predict_through_the_file_equals_predict_through_mlflow(in_store, monkeypatch, capsys):
    ref = f"models:/{NAME}@champion"
    assert main(["predict", "--json", "--model", ref, "Build the wall now."]) == 0
    fast = capsys.readouterr().out
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", in_store[1])  # the same store, asked through MLflow
    load_model.cache_clear()
    assert main(["predict", "--json", "--model", ref, "Build the wall now."]) == 0
    assert capsys.readouterr().out == fast and '"label": "FAVOR"' in fast


@pytest.mark.parametrize("through", ["file", "mlflow"])
@pytest.mark.parametrize("deleted", ["folder", "model-files"])
def test_a_registered_version_whose_files_were_deleted_is_said_to_be_missing(store, tmp_path, monkeypatch, capsys,
                                                                              through, deleted):
    tmp, _, _ = store
    db = tmp_path / "mlflow.db"
    shutil.copy(tmp / "mlflow.db", db)
    with sqlite3.connect(db) as con:
        source = con.execute("SELECT storage_location FROM model_versions WHERE version = 1").fetchone()[0]
        shutil.copytree(source, tmp_path / "artifacts")
        con.execute("UPDATE model_versions SET storage_location = ?", (str(tmp_path / "artifacts"),))
    shutil.rmtree(tmp_path / "artifacts" if deleted == "folder" else tmp_path / "artifacts" / "artifacts")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    if through == "mlflow":
        monkeypatch.setenv("MLFLOW_REGISTRY_URI", f"sqlite:///{db}")
    monkeypatch.chdir(tmp_path)
    load_model.cache_clear()
    assert main(["predict", "--model", f"models:/{NAME}/1", "Build the wall now."]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "model files" in err and "missing" in err, err
    assert "folders below that look like models" not in err
