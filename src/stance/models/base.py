"""The interface every model kind implements, so training, evaluation and serving never ask which kind."""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Sequence

if TYPE_CHECKING:  # annotations only: importing this module must not cost numpy and pandas
    import numpy as np
    import pandas as pd

# Called by long-running fits with (step_name, metrics, step) so tracking stays out of model code.
LogFn = Callable[[dict[str, float], int], None]


class StanceModel(ABC):
    kind: ClassVar[str]
    labels: list[str]
    targets: list[str]  # the targets seen in training (the default target when there is one)
    # Whether a target never seen in training can be scored (the transformer reads it as text).
    accepts_unseen_targets: ClassVar[bool] = False

    @abstractmethod
    def fit(self, train: pd.DataFrame, dev: pd.DataFrame, log: LogFn | None = None,
            work_dir: Path | None = None, resume: bool = False) -> dict[str, Any]:
        """Train on frames with text/label/target columns; returns facts to log (e.g. best_epoch).

        `work_dir` is this run's scratch folder (checkpoints); `log(metrics, step)` records progress;
        `resume` continues from the latest checkpoint in work_dir, where the kind has checkpoints.
        """

    @abstractmethod
    def predict_proba(self, texts: Sequence[str], targets: Sequence[str]) -> np.ndarray:
        """(n, len(labels)) probabilities, columns in self.labels order."""

    @abstractmethod
    def save(self, path: Path) -> None:
        """Write the model to a directory, without pickle."""

    @classmethod
    @abstractmethod
    def load(cls, path: Path, inference: str | None = None) -> "StanceModel":
        """Read a directory written by save(). `inference`: the prediction path, for kinds that declare
        prediction_paths in the registry (stance.config.KINDS); stance.models.load refuses it for the others."""

    def predict(self, texts: Sequence[str], targets: Sequence[str]) -> list[str]:
        proba = self.predict_proba(texts, targets)
        return [self.labels[i] for i in proba.argmax(axis=1)]

    def params(self) -> dict[str, Any]:
        """Facts about the fitted model worth logging (size, vocabulary, ...)."""
        return {}
