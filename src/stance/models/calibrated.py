"""A model kind plus the calibrator fitted on its dev predictions: itself a StanceModel.

Wrapping (rather than editing each kind) means every path that loads a model — predict, the MLflow
pyfunc, evaluation — gets calibrated probabilities, and every kind is calibrated the same way.
`base.predict_proba` still gives the uncalibrated probabilities (for before/after metrics).
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .calibrator import CALIBRATION_FILE, Calibrator
from .base import LogFn, StanceModel

if TYPE_CHECKING:  # annotations only: a loaded model predicts without pandas
    import pandas as pd


class CalibratedModel(StanceModel):
    def __init__(self, base: StanceModel, calibrator: Calibrator):
        self.base, self.calibrator = base, calibrator

    # Everything that describes the model is the base model's.
    kind = property(lambda self: self.base.kind)  # type: ignore[assignment]
    labels = property(lambda self: self.base.labels)  # type: ignore[assignment]
    targets = property(lambda self: self.base.targets)  # type: ignore[assignment]
    accepts_unseen_targets = property(lambda self: self.base.accepts_unseen_targets)  # type: ignore[assignment]

    def __getattr__(self, name: str) -> Any:
        # Kind-specific extras (top_features, pipeline, tokenizer, cfg) stay reachable.
        if name in ("base", "calibrator"):
            raise AttributeError(name)
        return getattr(self.base, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # Settings changed on the loaded model (e.g. cfg for long texts) must reach the model that uses them.
        if name in ("base", "calibrator"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.base, name, value)

    def fit(self, train: pd.DataFrame, dev: pd.DataFrame, log: LogFn | None = None,
            work_dir: Path | None = None, resume: bool = False) -> dict[str, Any]:
        raise TypeError("fit the base model, then calibrate() it")

    def predict_proba(self, texts: Sequence[str], targets: Sequence[str]) -> np.ndarray:
        return self.calibrator(self.base.predict_proba(texts, targets))

    def params(self) -> dict[str, Any]:
        return {**self.base.params(), **self.calibrator.summary()}

    def save(self, path: Path) -> None:
        # Calibrator first: the base model writes the metadata (with every file's checksum) last.
        Path(path).mkdir(parents=True, exist_ok=True)
        self.calibrator.save(Path(path) / CALIBRATION_FILE)
        self.base.save(path)

    @classmethod
    def load(cls, path: Path, inference: str | None = None) -> "CalibratedModel":
        from . import load

        return load(path, inference)  # type: ignore[return-value]


def calibrate(model: StanceModel, dev: pd.DataFrame, method: str) -> StanceModel:
    """Fit `method` on the model's dev-split probabilities; "none" returns the model unchanged."""
    if method == "none":
        return model
    if len(dev) < 2:
        warnings.warn(f"calibration {method!r} skipped: the dev split has {len(dev)} statement(s), at least 2 are "
                      f"needed; probabilities stay uncalibrated", stacklevel=2)
        return model
    proba = model.predict_proba(dev["text"].tolist(), dev["target"].tolist())
    y = [model.labels.index(lab) for lab in dev["label"]]
    return CalibratedModel(model, Calibrator.fit(proba, y, method))  # type: ignore[arg-type]


def with_calibration_of(base: StanceModel, calibrated: StanceModel) -> StanceModel:
    """`base` behind the calibrator of `calibrated` (unchanged when that one has none)."""
    return CalibratedModel(base, calibrated.calibrator) if isinstance(calibrated, CalibratedModel) else base


def uncalibrated(model: StanceModel) -> StanceModel:
    return model.base if isinstance(model, CalibratedModel) else model


def raw_and_calibrated(model: StanceModel, texts: Sequence[str], targets: Sequence[str]) -> tuple[np.ndarray,
                                                                                                  np.ndarray]:
    """(uncalibrated, calibrated) probabilities from one pass through the model: the calibrated ones are computed
    from the raw ones. The same array twice for a model without a calibrator."""
    raw = uncalibrated(model).predict_proba(texts, targets)
    return raw, model.calibrator(raw) if isinstance(model, CalibratedModel) else raw
