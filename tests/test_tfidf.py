import numpy as np
import pytest

from conftest import TARGET, save_skops_era
from stance.config import TfidfConfig
from stance.data import DataConfig, load_data
from stance.models import CorruptModelError, UnsafeModelError, load
from stance.models.tfidf import MODEL_FILE, TfidfModel
from stance.models.tfidf_pipeline import load_pipeline

# Text scikit-learn's analyzers treat in their own ways: Unicode case and white space, digits, punctuation only.
HOSTILE = ["", " ", "x", "ÉCOLE Straße ǅ İstanbul ΣΑΣ", "line\u2028sep\u0085next\u00a0nbsp\u3000wide", "tab\tand\nnew",
           "😀 emoji 😀😀 👍🏽", "I.B.M. U.S.A. co-op 3rd 2024-01-01 $5", "the the the  the", "!!! ??? ...", "a" * 500,
           "Deport   every\r\ncriminal alien", "ICE ice Ice iCE", "_under_score_ snake_case"]


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
    # JSON and safetensors (an 8-byte header length, then a JSON header): nothing that can hold code.
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["stance_model.json", "vocabulary.json",
                                                                 "weights.safetensors"]
    assert (tmp_path / "m" / "weights.safetensors").read_bytes()[8:9] == b"{"
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


def test_vocabulary_is_saved_as_term_lists_beside_the_weights(tiny_corpus, tmp_path):
    """The terms are JSON lists in column order, and the loaded model scores exactly as the fitted one."""
    import json

    data = load_data(DataConfig(path=str(tiny_corpus)), seed=1)
    model = TfidfModel(TfidfConfig(max_features=200), data.labels, seed=1)
    model.fit(data.train, data.dev)
    model.save(tmp_path / "m")
    terms = json.loads((tmp_path / "m" / "vocabulary.json").read_text())
    assert "wall" in terms["word"] and len(terms["char"]) == 200
    texts = data.test["text"].tolist()
    assert np.array_equal(load(tmp_path / "m").predict_proba(texts, [TARGET] * len(texts)),
                          model.predict_proba(texts, [TARGET] * len(texts)))
    # A term list that does not fit the model's columns is refused, naming the file.
    (tmp_path / "m" / "vocabulary.json").write_text(json.dumps({**terms, "word": ["a"]}))
    with pytest.raises(CorruptModelError, match=r"weights\.safetensors is corrupt: it does not fit .*vocabulary\.json: "
                                                r"word has \d+ idf values for 1 terms"):
        TfidfModel.load(tmp_path / "m")


@pytest.mark.parametrize("settings", [{}, {"classifier": "linear_svc"}, {"word_ngrams": [1, 3], "char_ngrams": [3, 5]},
                                      {"word_ngrams": [2, 2], "sublinear_tf": False}, {"two_labels": True}],
                         ids=["logreg", "linear_svc", "wider-ngrams", "bigrams-only-raw-tf", "two-labels"])
def test_numpy_scores_equal_the_sklearn_pipeline_on_hostile_text(tiny_corpus, settings):
    """The saved model scores with numpy alone (tfidf_linear): features, margins and probabilities must be the
    scikit-learn pipeline's on any text, for every setting a config can give."""
    import pandas as pd
    from scipy.special import softmax

    data = load_data(DataConfig(path=str(tiny_corpus)), seed=1)
    train = data.train
    if settings.pop("two_labels", False):
        train = train[train["label"] != "NONE"]
    model = TfidfModel(TfidfConfig(min_df=1, **settings), data.labels, seed=1)
    model.fit(train, data.dev)
    texts = data.test["text"].tolist() + HOSTILE
    targets = [TARGET] * (len(texts) - 1) + ["a target never seen in training"]
    frame = pd.DataFrame({"text": texts, "target": targets})
    features = model.pipeline.named_steps["features"].transform(frame).toarray()
    ours = np.zeros_like(features)
    for i, (cols, values) in enumerate(model.linear.rows(texts, targets)):
        ours[i, cols] = values
    assert np.allclose(ours, features, rtol=0, atol=1e-12)
    decision = model.pipeline.decision_function(frame)
    assert np.allclose(model.linear.margins(texts, targets).squeeze(), decision, rtol=0, atol=1e-12)
    if len(model.linear.classes) > 2 or model.cfg.classifier == "logreg":
        ref = model.pipeline.predict_proba(frame) if model.cfg.classifier == "logreg" else softmax(decision, axis=1)
        order = [list(model.pipeline.classes_).index(lab) for lab in model.linear.classes]
        mine = model.predict_proba(texts, targets)[:, [model.labels.index(c) for c in model.linear.classes]]
        assert np.allclose(mine, ref[:, order], rtol=0, atol=1e-12)


def test_a_folder_saved_with_skops_before_format_2_loads_with_the_same_scores(fitted, tmp_path):
    old = save_skops_era(fitted, tmp_path / "old")
    fitted.save(tmp_path / "new")
    texts = ["Honor every ICE detainer.", "Sanctuary keeps us safe.", *HOSTILE]
    scores = load(old).predict_proba(texts, [TARGET] * len(texts))
    assert np.array_equal(scores, load(tmp_path / "new").predict_proba(texts, [TARGET] * len(texts)))
    assert np.allclose(scores, fitted.predict_proba(texts, [TARGET] * len(texts)), rtol=0, atol=1e-15)
