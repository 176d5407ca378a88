"""TF-IDF (word + character n-grams, plus the target) and a linear classifier, as one sklearn Pipeline.

The pipeline takes a DataFrame with `text` and `target` columns (a ColumnTransformer picks them), so
an MLflow pyfunc fed a DataFrame scores every row, not the column names. Stored with skops, not pickle.
"""
from __future__ import annotations

import contextlib
import json
import zipfile
import zlib
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd
import sklearn
from scipy import sparse
from scipy.special import softmax
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.svm import LinearSVC

from ..config import TfidfConfig
from . import CorruptModelError, UnsafeModelError
from .base import LogFn, StanceModel
from .integrity import read_meta, write_meta
from .skops_io import import_skops_io

sio = import_skops_io()

MODEL_FILE = "model.skops"
VOCAB_FILE = "vocabulary.json"
_VECTORIZERS = ("word", "char")
# skops trusts plain containers, numpy and public sklearn estimators itself; beyond those, exactly the types
# skops.io.get_untrusted_types reports for the pipelines this project writes (none today; these for linear_svc
# models saved when it was a CalibratedClassifierCV).
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


def _frame(texts: Sequence[str], targets: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({"text": list(texts), "target": list(targets)})


class TfidfModel(StanceModel):
    kind = "tfidf"

    def __init__(self, cfg: TfidfConfig, labels: list[str], seed: int = 13):
        self.cfg, self.labels, self.seed = cfg, list(labels), seed
        self.pipeline: Pipeline | None = None
        self.targets: list[str] = []

    def fit(self, train: pd.DataFrame, dev: pd.DataFrame, log: LogFn | None = None,
            work_dir: Path | None = None, resume: bool = False) -> dict[str, Any]:
        pipe = build_pipeline(self.cfg, self.seed)
        self.targets = sorted(train["target"].unique())
        X, y = _frame(train["text"], train["target"]), train["label"]
        # Per-row weights from multi-source data (e.g. real statements over authored ones).
        fit_params = {"clf__sample_weight": train["weight"].to_numpy(float)} if "weight" in train else {}
        info: dict[str, Any] = {}
        if self.cfg.grid_C:
            param = "clf__C"
            cv = StratifiedKFold(self.cfg.cv_folds, shuffle=True, random_state=self.seed)
            search = GridSearchCV(pipe, {param: self.cfg.grid_C}, cv=cv, scoring="f1_macro", n_jobs=1)
            search.fit(X, y, **fit_params)
            pipe = search.best_estimator_
            info["best_C"] = float(search.best_params_[param])
            info["cv_macro_f1"] = float(search.best_score_)
        else:
            pipe.fit(X, y, **fit_params)
        self.pipeline = pipe
        return info

    def predict_proba(self, texts: Sequence[str], targets: Sequence[str]) -> np.ndarray:
        assert self.pipeline is not None, "model is not fitted"
        clf, X = self.pipeline.named_steps["clf"], self._features(texts, targets)
        if isinstance(clf, LogisticRegression) and clf.coef_.shape[0] > 2 and clf.solver != "liblinear":
            # Multinomial logistic regression is softmax(X W^T + b). sklearn's path copies the transposed
            # (features x classes) weights on every call (~1 ms for one statement); W^T is kept contiguous here.
            if getattr(self, "_coef_t", None) is None or self._coef_t[0] is not clf.coef_:
                self._coef_t = (clf.coef_, np.ascontiguousarray(clf.coef_.T))
            raw = softmax(np.asarray(X @ self._coef_t[1]) + clf.intercept_, axis=1)
        elif isinstance(clf, LinearSVC):
            margins = clf.decision_function(X)
            if margins.ndim == 1:  # two classes: one margin for the second
                margins = np.column_stack([-margins / 2, margins / 2])
            raw = softmax(margins, axis=1)
        else:  # CalibratedClassifierCV(LinearSVC): models saved before linear_svc was the plain SVM
            raw = clf.predict_proba(X)
        # sklearn orders columns alphabetically; we promise self.labels order (absent classes get 0).
        out = np.zeros((len(raw), len(self.labels)))
        for j, cls in enumerate(self.pipeline.classes_):
            out[:, self.labels.index(cls)] = raw[:, j]
        return out

    def _features(self, texts: Sequence[str], targets: Sequence[str]) -> sparse.csr_matrix:
        """The fitted ColumnTransformer's output, computed from its parts.

        Same matrix as pipeline["features"].transform(frame), without building a DataFrame and dispatching
        through pandas indexing and joblib, which cost ~75% of a one-statement call (profiled).
        """
        features = self.pipeline.named_steps["features"]
        texts = list(texts)
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            blocks = [features.named_transformers_[name].transform(texts) for name in ("word", "char")]
        # One-hot target as OneHotEncoder(handle_unknown="ignore") fitted it: a 1 in the target's column, or none.
        column = {cat: j for j, cat in enumerate(features.named_transformers_["target"].categories_[0])}
        hits = [(i, column[t]) for i, t in enumerate(targets) if t in column]
        rows, cols = zip(*hits) if hits else ((), ())
        blocks.append(sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(texts), len(column))))
        return sparse.hstack(blocks, format="csr")

    def top_features(self, k: int = 20) -> dict[str, list[tuple[str, float]]]:
        """Per class, the n-grams with the largest coefficients (logreg only)."""
        assert self.pipeline is not None
        clf = self.pipeline.named_steps["clf"]
        if not hasattr(clf, "coef_"):
            return {}
        names = self.pipeline.named_steps["features"].get_feature_names_out()
        coef = clf.coef_ if len(clf.classes_) > 2 else np.vstack([-clf.coef_[0], clf.coef_[0]])
        return {cls: [(str(names[i]), float(coef[j, i])) for i in np.argsort(coef[j])[::-1][:k]]
                for j, cls in enumerate(clf.classes_)}

    def params(self) -> dict[str, Any]:
        assert self.pipeline is not None
        return {"n_features": int(len(self.pipeline.named_steps["features"].get_feature_names_out()))}

    def save(self, path: Path) -> None:
        assert self.pipeline is not None
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        with _vocabulary_apart(self.pipeline) as vocabularies:
            sio.dump(self.pipeline, path / MODEL_FILE)
        # One JSON list per vectorizer, terms in column order: skops writes each dict entry as a node of ~830
        # bytes (the demo's model: 58 MB, P-Stance's: 162 MB); as a list it is a few bytes a term.
        (path / VOCAB_FILE).write_text(json.dumps(vocabularies, ensure_ascii=False, separators=(",", ":")),
                                       encoding="utf-8")
        write_meta(path, {"kind": self.kind, "labels": self.labels, "targets": self.targets, "seed": self.seed,
                          "config": self.cfg.model_dump(mode="json")})

    @classmethod
    def load(cls, path: Path, inference: str | None = None) -> "TfidfModel":  # one prediction path
        path = Path(path)
        meta = read_meta(path)
        model = cls(TfidfConfig.model_validate(meta["config"]), meta["labels"], meta.get("seed", 13))
        model.pipeline = load_pipeline(path / MODEL_FILE)
        if (path / VOCAB_FILE).is_file():  # absent from models saved with the vocabulary inside the skops file
            _restore_vocabulary(model.pipeline, path / VOCAB_FILE)
        model.targets = meta.get("targets", [])
        return model


@contextlib.contextmanager
def _vocabulary_apart(pipe: Pipeline) -> Iterator[dict[str, list[str]]]:
    """The vectorizers' vocabularies as term lists, left out of the pipeline while the block runs."""
    vecs = pipe.named_steps["features"].named_transformers_
    saved = {name: vecs[name].vocabulary_ for name in _VECTORIZERS}
    try:
        for name in _VECTORIZERS:
            vecs[name].vocabulary_ = {}
        yield {name: sorted(v, key=v.__getitem__) for name, v in saved.items()}
    finally:
        for name, v in saved.items():
            vecs[name].vocabulary_ = v


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

    try:
        try:
            return sio.load(file, trusted=list(TRUSTED_TYPES))
        except UntrustedTypesFoundException:
            foreign = sorted(set(sio.get_untrusted_types(file=file)) - set(TRUSTED_TYPES))
    except _UNREADABLE as e:
        raise CorruptModelError(f"{file} is corrupt: not a readable skops file ({type(e).__name__}: {e})") from None
    raise UnsafeModelError(f"{file} needs types a stance TF-IDF model never contains: {foreign}; "
                           f"refusing to load it (loading could run code)")
