"""The scikit-learn side of the TF-IDF kind: the pipeline it trains, and reading the skops files that models
saved before the numpy format (models/tfidf_linear.py) were written in. Imported only to train or to read such
an older folder: a saved model predicts without scikit-learn.
"""
from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.svm import LinearSVC

from ..config import TfidfConfig
from .integrity import CorruptModelError
from .skops_io import import_skops_io

SKOPS_FILE = "model.skops"  # the pipeline, in folders saved before the numpy format
VOCAB_FILE = "vocabulary.json"
_VECTORIZERS = ("word", "char")
# skops trusts plain containers, numpy and public sklearn estimators itself; beyond those, exactly the types
# skops.io.get_untrusted_types reports for the pipelines this project wrote (these for linear_svc models saved
# when it was a CalibratedClassifierCV).
# Exact names, never a module prefix: "builtins." would admit builtins.exec, and "sklearn." any function there.
TRUSTED_TYPES = ("sklearn.calibration._CalibratedClassifier", "sklearn.calibration._SigmoidCalibration")
# What a damaged or foreign zip raises inside skops (the schema is JSON inside a zip of .npy files).
_UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError)


def build_pipeline(cfg: TfidfConfig, seed: int) -> Pipeline:
    features = ColumnTransformer([
        ("word", TfidfVectorizer(ngram_range=tuple(cfg.word_ngrams), min_df=cfg.min_df, sublinear_tf=cfg.sublinear_tf,
                                 max_features=cfg.max_features, lowercase=True), "text"),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(cfg.char_ngrams), min_df=cfg.min_df,
                                 sublinear_tf=cfg.sublinear_tf, max_features=cfg.max_features), "text"),
        # Target as a feature lets one model serve several targets (SemEval, P-Stance).
        ("target", OneHotEncoder(handle_unknown="ignore"), ["target"]),
    ])
    if cfg.classifier == "logreg":
        clf: Any = LogisticRegression(C=cfg.C, class_weight=cfg.class_weight, max_iter=cfg.max_iter)
    else:
        # The SVM itself, trained on all of train (an internal-CV CalibratedClassifierCV fits three SVMs on
        # two thirds each, and its argmax is not the SVM's decision). Its margins pass through a softmax;
        # probabilities come from the calibration fitted on dev (workflows/training.py).
        clf = LinearSVC(C=cfg.C, class_weight=cfg.class_weight, random_state=seed, max_iter=cfg.max_iter)
    return Pipeline([("features", features), ("clf", clf)])


def load_skops_folder(path: Path) -> Pipeline:
    """The pipeline of a folder saved before the numpy format: model.skops, and the vocabularies beside it
    (inside it in the oldest folders)."""
    pipe = load_pipeline(path / SKOPS_FILE)
    if (path / VOCAB_FILE).is_file():
        _restore_vocabulary(pipe, path / VOCAB_FILE)
    return pipe


def _restore_vocabulary(pipe: Pipeline, file: Path) -> None:
    vecs = pipe.named_steps["features"].named_transformers_
    try:
        lists = json.loads(file.read_text(encoding="utf-8"))
        ok = isinstance(lists, dict) and all(isinstance(lists.get(n), list) for n in _VECTORIZERS)
    except (json.JSONDecodeError, UnicodeDecodeError):
        ok = False
    if not ok or any(not all(isinstance(t, str) for t in lists[n]) for n in _VECTORIZERS):
        raise CorruptModelError(f"{file} is corrupt: expected the vectorizers' term lists")
    for name in _VECTORIZERS:
        terms = lists[name]
        width = len(vecs[name].idf_) if hasattr(vecs[name], "idf_") else len(terms)
        if len(terms) != width or len(set(terms)) != len(terms):
            raise CorruptModelError(f"{file} is corrupt: {name} has {len(terms)} terms for {width} columns")
        vecs[name].vocabulary_ = {t: i for i, t in enumerate(terms)}


def load_pipeline(file: Path) -> Pipeline:
    """A skops file holding only types this project writes; anything else is refused before it is built.

    skops.io.load audits the whole tree against `trusted` before constructing anything, so one pass reads the
    file (a separate get_untrusted_types pass first cost as much again); the types are listed only on refusal.
    """
    from skops.io.exceptions import UntrustedTypesFoundException

    from . import UnsafeModelError

    sio = import_skops_io()
    try:
        try:
            return sio.load(file, trusted=list(TRUSTED_TYPES))
        except UntrustedTypesFoundException:
            foreign = sorted(set(sio.get_untrusted_types(file=file)) - set(TRUSTED_TYPES))
    except _UNREADABLE as e:
        raise CorruptModelError(f"{file} is corrupt: not a readable skops file ({type(e).__name__}: {e})") from None
    raise UnsafeModelError(f"{file} needs types a stance TF-IDF model never contains: {foreign}; "
                           f"refusing to load it (loading could run code)")
