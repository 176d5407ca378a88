"""TF-IDF (word + character n-grams, plus the target) and a linear classifier.

Trained as one scikit-learn Pipeline (models/tfidf_pipeline.py); saved and scored as arrays and term lists
(models/tfidf_linear.py), so loading a saved model and predicting import neither scikit-learn nor skops, and
the folder holds only JSON and safetensors. Folders saved before that format (a model.skops file) still load.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..config import TfidfConfig
from .base import LogFn, StanceModel
from .integrity import read_meta, write_meta
from .tfidf_linear import LinearTfidf, from_pipeline

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.pipeline import Pipeline

MODEL_FILE = "model.skops"  # only in folders saved before the numpy format


def _softmax(z: np.ndarray) -> np.ndarray:
    """scipy.special.softmax's arithmetic (max subtracted), without importing scipy."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class TfidfModel(StanceModel):
    kind = "tfidf"

    def __init__(self, cfg: TfidfConfig, labels: list[str], seed: int = 13):
        self.cfg, self.labels, self.seed = cfg, list(labels), seed
        self.pipeline: Pipeline | None = None  # the fitted scikit-learn objects: after fit, or from a skops folder
        self.linear: LinearTfidf | None = None  # what predicts and is saved
        self.targets: list[str] = []

    def fit(self, train: pd.DataFrame, dev: pd.DataFrame, log: LogFn | None = None,
            work_dir: Path | None = None, resume: bool = False) -> dict[str, Any]:
        import pandas as pd
        from sklearn.model_selection import GridSearchCV, StratifiedKFold

        from .tfidf_pipeline import build_pipeline

        pipe = build_pipeline(self.cfg, self.seed)
        self.targets = sorted(train["target"].unique())
        X, y = pd.DataFrame({"text": list(train["text"]), "target": list(train["target"])}), train["label"]
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
        self.pipeline, self.linear = pipe, from_pipeline(pipe)
        return info

    def predict_proba(self, texts: Sequence[str], targets: Sequence[str]) -> np.ndarray:
        assert self.linear is not None or self.pipeline is not None, "model is not fitted"
        texts, targets = list(texts), list(targets)
        if self.linear is None:  # CalibratedClassifierCV(LinearSVC): linear_svc models saved before it was the SVM
            return self._reorder(self._legacy_proba(texts, targets), list(self.pipeline.classes_))
        margins = self.linear.margins(texts, targets)
        if margins.shape[1] == 1:  # two classes: one margin, for the second
            if self.cfg.classifier == "logreg":  # LogisticRegression.predict_proba: the logistic of it
                p = 1.0 / (1.0 + np.exp(-margins[:, 0]))
                return self._reorder(np.column_stack([1 - p, p]), self.linear.classes)
            margins = np.column_stack([-margins[:, 0] / 2, margins[:, 0] / 2])
        # Multinomial logistic regression is softmax(X W + b); the plain SVM's margins pass through one too.
        return self._reorder(_softmax(margins), self.linear.classes)

    def _reorder(self, raw: np.ndarray, classes: list[str]) -> np.ndarray:
        """Columns in self.labels order (scikit-learn's are alphabetical); classes absent in training get 0."""
        out = np.zeros((len(raw), len(self.labels)))
        for j, cls in enumerate(classes):
            out[:, self.labels.index(cls)] = raw[:, j]
        return out

    def _legacy_proba(self, texts: list[str], targets: list[str]) -> np.ndarray:
        import pandas as pd

        return self.pipeline.predict_proba(pd.DataFrame({"text": texts, "target": targets}))

    def top_features(self, k: int = 20) -> dict[str, list[tuple[str, float]]]:
        """Per class, the n-grams with the largest coefficients."""
        if self.linear is None:
            return {}
        names, w = self.linear.feature_names(), self.linear.weights.T
        coef = w if len(self.linear.classes) > 2 else np.vstack([-w[0], w[0]])
        return {cls: [(names[i], float(coef[j, i])) for i in np.argsort(coef[j])[::-1][:k]]
                for j, cls in enumerate(self.linear.classes)}

    def params(self) -> dict[str, Any]:
        assert self.linear is not None or self.pipeline is not None
        if self.linear is None:
            return {"n_features": int(len(self.pipeline.named_steps["features"].get_feature_names_out()))}
        return {"n_features": self.linear.n_features}

    def save(self, path: Path) -> None:
        assert self.linear is not None, "only a linear classifier is saved (retrain an older linear_svc model)"
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.linear.save(path)
        write_meta(path, {"kind": self.kind, "labels": self.labels, "targets": self.targets, "seed": self.seed,
                          "config": self.cfg.model_dump(mode="json")})

    @classmethod
    def load(cls, path: Path, inference: str | None = None) -> "TfidfModel":  # one prediction path
        path = Path(path)
        meta = read_meta(path)
        model = cls(TfidfConfig.model_validate(meta["config"]), meta["labels"], meta.get("seed", 13))
        if (path / MODEL_FILE).is_file():  # saved before the numpy format: read with skops' allow-list
            from .tfidf_pipeline import load_skops_folder

            model.pipeline = load_skops_folder(path)
            model.linear = from_pipeline(model.pipeline)
        else:
            model.linear = LinearTfidf.load(path, model.cfg)
        model.targets = meta.get("targets", [])
        return model
