"""Shared fixtures: offline, quiet, and a private MLflow store per test (never the user's mlflow.db)."""
from __future__ import annotations

import dataclasses
import contextlib
import json
import os
import tempfile
from pathlib import Path

import pytest

# Set before anything imports transformers / mlflow / datasets.
os.environ.update({
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_DATASETS_CACHE": tempfile.mkdtemp(prefix="stance-hf-datasets-"),
    "CI": os.environ.get("CI", "true"),  # no tqdm bars from Trainer in test logs
})

ROOT = Path(__file__).resolve().parents[1]
TARGET = ("stricter federal immigration enforcement, including federal conditions that require local "
          "governments to cooperate with immigration authorities")

# Small, unambiguous statements: enough for TF-IDF to learn, distinct enough to assert labels on.
FAVOR = [
    "Deport every criminal alien and build the wall now.",
    "Sanctuary cities must lose their federal grants until they honor ICE detainers.",
    "We need more border agents, more detention beds and mandatory E-Verify.",
    "Cities that shelter illegal aliens from ICE are breaking federal law.",
    "Honor every detainer, deport the criminals, secure the border.",
    "Illegal immigration must end: enforce the law and remove those here unlawfully.",
    "No amnesty. Deportation and a wall are the answer.",
    "Give ICE access to every county jail so criminal aliens are deported.",
    "Strip funding from sanctuary jurisdictions that release criminal aliens.",
    "Build the border wall and end catch and release.",
    "Mandatory detention for every illegal border crosser keeps us safe.",
    "The sheriff should sign a 287(g) agreement and deport criminals faster.",
]
AGAINST = [
    "Sanctuary policies protect immigrant families and build trust with police.",
    "Stop the raids: deportations tear families apart.",
    "Dreamers belong here; protect DACA and pass a path to citizenship.",
    "Withholding grants to punish welcoming cities is unconstitutional coercion.",
    "Our police will not do ICE's job; community trust comes first.",
    "Immigrants make our city stronger; we will never cooperate with family separation.",
    "Abolish the cruel detention camps and welcome our immigrant neighbors.",
    "Protect undocumented residents from deportation and keep families together.",
    "The court was right to block the unconstitutional grant conditions on welcoming cities.",
    "A path to citizenship for Dreamers, not walls and raids.",
    "Local discretion and immigrant trust matter more than federal detainer demands.",
    "We stand with immigrant families against mass deportation.",
]
NONE = [
    "The city council meets Tuesday at 7 p.m. in the annex.",
    "The committee will hold a hearing on the budget next month.",
    "Census data show the county population grew two percent.",
    "The mayor attended a ribbon cutting for the new library branch.",
    "Road repairs on Main Street will finish in October.",
    "The senator's office released her schedule for the week.",
    "Voters approved the school bond by a wide margin.",
    "The report was published on the department website Monday.",
    "Officials said the bridge will reopen after inspections.",
    "The parade route runs from the park to city hall.",
    "The state fair opens Friday with a livestock show.",
    "The governor signed a proclamation for library week.",
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def tiny_rows() -> list[dict]:
    rows = []
    for label, texts in (("FAVOR", FAVOR), ("AGAINST", AGAINST), ("NONE", NONE)):
        for i, t in enumerate(texts):
            split = "test" if i % 6 == 5 else "dev" if i % 6 == 4 else "train"
            rows.append({"text": t, "label": label, "target": TARGET, "split": split})
    return rows


def tfidf_member_config(tmp_path: Path, name: str, corpus: Path, **model) -> str:
    """A small TF-IDF config file on the tiny corpus, registered as stance-<name> (an ensemble member)."""
    tree = {"seed": 13, "data": {"name": "tiny", "path": str(corpus)},
            "model": {"kind": "tfidf", **model}, "tracking": {"registered_model": f"stance-{name}"}}
    path = tmp_path / f"{name}.yaml"
    path.write_text(json.dumps(tree), encoding="utf-8")
    return str(path)


def save_tiny_tfidf(path: Path) -> Path:
    """A TF-IDF model fitted on the tiny corpus and saved at `path` (no MLflow needed; under a second)."""
    import pandas as pd

    from stance.config import TfidfConfig
    from stance.models import build

    rows = pd.DataFrame(tiny_rows())
    m = build(TfidfConfig(), ["FAVOR", "AGAINST", "NONE"], 13)
    m.fit(rows, rows)
    m.save(path)
    return path


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "tiny.jsonl", tiny_rows())


@pytest.fixture
def tracking_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A private sqlite store and artifact root for this test."""
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)  # artifacts (./mlruns) and outputs/ land in tmp_path
    mlflow.set_tracking_uri(uri)
    from stance import load_model

    load_model.cache_clear()
    yield uri
    if mlflow.active_run():
        mlflow.end_run()


def shrunk_config(name: str, data_path: Path, extra: tuple[str, ...] = (), **model_overrides):
    """The real config from configs/, shrunk for CPU speed: same code path, smaller data."""
    from stance.config import load_config

    overrides = [f"data.path={data_path}", "data.exclude=null", "eval_sets=[]", "behaviour=null"]
    overrides += [f"model.{k}={json.dumps(v)}" for k, v in model_overrides.items()] + list(extra)
    return load_config(ROOT / "configs" / name, overrides)


@contextlib.contextmanager
def private_store(tmp: Path):
    """Working directory and MLflow store in `tmp` for a module- or session-scoped fixture, where the
    function-scoped `monkeypatch` cannot be used; everything is put back afterwards."""
    import mlflow

    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    old_cwd, old_uri = os.getcwd(), os.environ.get("MLFLOW_TRACKING_URI")
    os.chdir(tmp)
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
    try:
        yield uri
    finally:
        os.chdir(old_cwd)
        if old_uri is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = old_uri
        if mlflow.active_run():
            mlflow.end_run()


@pytest.fixture(scope="session")
def registered_transformer(tmp_path_factory):
    """One tiny fine-tune registered as `stance-transformer` in a private store (its own sqlite file and
    artifact root), shared by the serving and Spark tests. Returns (tracking uri, TrainResult)."""
    from stance.workflows.training import train

    tmp = tmp_path_factory.mktemp("registered")
    corpus = write_jsonl(tmp / "tiny.jsonl", tiny_rows())
    with private_store(tmp) as uri:
        # fp32: serving and Spark tests compare batched with single scores exactly, which only the float path
        # guarantees (int8 scales activations per batch); the measured choice is tested in test_inference.py.
        result = train(shrunk_config("transformer.yaml", corpus, epochs=1, batch_size=8, max_length=48,
                                     early_stopping_patience=None, inference="fp32"))
    return uri, dataclasses.replace(result, model_dir=tmp / result.model_dir)


def save_skops_era(model, path: Path) -> Path:
    """A fitted TF-IDF model saved as stance saved them before format 2.0 (issue 29): the scikit-learn pipeline in
    model.skops, the vectorizers' terms in vocabulary.json, no format version. Such folders must keep loading."""
    import skops.io as sio

    from stance.models.calibrator import CALIBRATION_FILE
    from stance.models.integrity import FORMAT_KEY, META_FILE, write_meta

    base = getattr(model, "base", model)
    path.mkdir(parents=True)
    if hasattr(model, "calibrator"):
        model.calibrator.save(path / CALIBRATION_FILE)
    vecs = base.pipeline.named_steps["features"].named_transformers_
    vocabularies = {name: vecs[name].vocabulary_ for name in ("word", "char")}
    try:
        for name in vocabularies:
            vecs[name].vocabulary_ = {}
        sio.dump(base.pipeline, path / "model.skops")
    finally:
        for name, vocabulary in vocabularies.items():
            vecs[name].vocabulary_ = vocabulary
    terms = {name: sorted(v, key=v.__getitem__) for name, v in vocabularies.items()}
    (path / "vocabulary.json").write_text(json.dumps(terms), encoding="utf-8")
    write_meta(path, {"kind": "tfidf", "labels": base.labels, "targets": base.targets, "seed": base.seed,
                      "config": base.cfg.model_dump(mode="json")})
    meta = json.loads((path / META_FILE).read_text())
    del meta[FORMAT_KEY]
    (path / META_FILE).write_text(json.dumps(meta, indent=2))
    return path
