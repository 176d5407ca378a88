import numpy as np
import pytest

from conftest import TARGET
from stance.config import TfidfConfig
from stance.data import DataConfig, load_data
from stance.models import CorruptModelError, load
from stance.models.tfidf import MODEL_FILE, TfidfModel, UnsafeModelError, load_pipeline


@pytest.fixture
def fitted(tiny_corpus):
    data = load_data(DataConfig(path=str(tiny_corpus)), seed=1)
    model = TfidfModel(TfidfConfig(), data.labels, seed=1)
    model.fit(data.train, data.dev)
    return model


def test_labels_clear_statements_and_orders_columns_like_labels(fitted):
    texts = ["Deport the criminal aliens and build the wall.", "Protect immigrant families from deportation raids.",
             "The library meets on Tuesday."]
    proba = fitted.predict_proba(texts, [TARGET] * 3)
    assert proba.shape == (3, 3) and np.allclose(proba.sum(axis=1), 1)
    assert fitted.predict(texts, [TARGET] * 3) == ["FAVOR", "AGAINST", "NONE"]
    assert fitted.labels == ["FAVOR", "AGAINST", "NONE"]


def test_save_load_roundtrip_is_exact_and_pickle_free(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    assert (tmp_path / "m" / MODEL_FILE).read_bytes()[:2] == b"PK"  # skops zip, not a pickle stream
    again = load(tmp_path / "m")
    texts = ["Honor every ICE detainer.", "Sanctuary keeps us safe."]
    assert np.array_equal(again.predict_proba(texts, [TARGET] * 2), fitted.predict_proba(texts, [TARGET] * 2))
    assert again.targets == [TARGET]


def test_loading_refuses_foreign_types(tmp_path):
    import os

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    sio.dump(FunctionTransformer(os.system), tmp_path / MODEL_FILE)  # a callable no stance model holds
    with pytest.raises(UnsafeModelError, match=r"needs types a stance TF-IDF model never contains: \[.*'posix.system'"):
        load_pipeline(tmp_path / MODEL_FILE)


def test_grid_search_and_linear_svc(tiny_corpus):
    data = load_data(DataConfig(path=str(tiny_corpus)), seed=1)
    m = TfidfModel(TfidfConfig(classifier="linear_svc", grid_C=[0.1, 10.0], cv_folds=2), data.labels, seed=1)
    info = m.fit(data.train, data.dev)
    assert info["best_C"] in (0.1, 10.0) and 0 <= info["cv_macro_f1"] <= 1
    assert m.predict(["Deport the criminal aliens and build the wall."], [TARGET]) == ["FAVOR"]


def test_top_features_are_per_class_ngrams(fitted):
    top = fitted.top_features(k=5)
    assert set(top) == {"FAVOR", "AGAINST", "NONE"}
    names = [name for name, _ in top["FAVOR"]]
    assert "word__wall" in names and "word__criminal" in names
    assert all(w > 0 for _, w in top["FAVOR"])


@pytest.mark.parametrize("classifier", ["logreg", "linear_svc"])
def test_fast_scoring_path_equals_the_sklearn_pipeline(tiny_corpus, classifier):
    """predict_proba skips the ColumnTransformer/DataFrame dispatch; it must give the pipeline's numbers."""
    import pandas as pd

    data = load_data(DataConfig(path=str(tiny_corpus)), seed=1)
    model = TfidfModel(TfidfConfig(classifier=classifier), data.labels, seed=1)
    model.fit(data.train, data.dev)
    texts = data.train["text"].tolist() + ["Unseen words entirely.", "x"]
    targets = [TARGET] * (len(texts) - 1) + ["a target never seen in training"]
    ours = model.predict_proba(texts, targets)
    frame = pd.DataFrame({"text": texts, "target": targets})
    if classifier == "linear_svc":  # the plain SVM: its margins through a softmax
        from scipy.special import softmax

        ref = softmax(model.pipeline.decision_function(frame), axis=1)
        assert (ours.argmax(1) == [model.labels.index(c) for c in model.pipeline.predict(frame)]).all()
    else:
        ref = model.pipeline.predict_proba(frame)
    order = [list(model.pipeline.classes_).index(lab) for lab in model.labels]
    assert np.allclose(ours, ref[:, order], atol=1e-12)


def test_vocabulary_is_saved_as_term_lists_beside_the_skops_file(tiny_corpus, tmp_path):
    """skops writes each vocabulary entry as a ~400-byte node (and with max_features one .npy file per term):
    the terms go to vocabulary.json instead, and the loaded model scores exactly as the fitted one."""
    import json
    import zipfile

    data = load_data(DataConfig(path=str(tiny_corpus)), seed=1)
    model = TfidfModel(TfidfConfig(max_features=200), data.labels, seed=1)
    model.fit(data.train, data.dev)
    model.save(tmp_path / "m")
    skops_file = zipfile.ZipFile(tmp_path / "m" / MODEL_FILE)
    assert len(skops_file.namelist()) < 20 and b'"wall"' not in skops_file.read("schema.json")
    terms = json.loads((tmp_path / "m" / "vocabulary.json").read_text())
    assert "wall" in terms["word"] and len(terms["char"]) == 200
    texts = data.test["text"].tolist()
    assert np.array_equal(load(tmp_path / "m").predict_proba(texts, [TARGET] * len(texts)),
                          model.predict_proba(texts, [TARGET] * len(texts)))
    # A term list that does not fit the model's columns is refused, naming the file.
    (tmp_path / "m" / "vocabulary.json").write_text(json.dumps({"word": ["a"], "char": terms["char"]}))
    with pytest.raises(CorruptModelError, match="vocabulary.json"):
        TfidfModel.load(tmp_path / "m")
