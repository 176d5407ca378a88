"""Label new statements with any tracked or saved model: `predict(texts, model=URI_OR_PATH)`."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import pandas as pd

from . import models
from .models.base import StanceModel


class InvalidInputError(ValueError):
    """Statements that cannot be scored; `.errors` maps index -> reason."""

    def __init__(self, errors: dict[int, str], total: int):
        self.errors = errors
        shown = "; ".join(f"index {i}: {why}" for i, why in list(errors.items())[:10])
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        super().__init__(f"{len(errors)} of {total} inputs are invalid: {shown}{more}")


@dataclass(frozen=True)
class Prediction:
    text: str
    label: str
    scores: dict[str, float]
    target: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        return {"text": self.text, "target": self.target, "label": self.label, "scores": self.scores}


def check_text(text: object) -> str | None:
    """Why a statement cannot be scored, or None when it can."""
    if text is None:
        return "None is not a statement"
    if isinstance(text, float) and text != text:  # pandas (and JSON null through a DataFrame) give NaN
        return "missing text (NaN/null) is not a statement"
    if not isinstance(text, str):
        return f"expected a string, got {type(text).__name__}"
    if not text.strip():
        return "empty or whitespace-only text"
    return None


def _local_model_dir(path: Path) -> Path:
    """A saved StanceModel dir, or an MLflow model dir that contains one."""
    if (path / models.META_FILE).is_file():
        return path
    found = sorted(path.rglob(models.META_FILE))
    if not found:
        raise FileNotFoundError(f"no stance model found under {path} (expected {models.META_FILE} or an MLflow model)")
    return found[0].parent


@functools.lru_cache(maxsize=8)
def load_model(model: str) -> StanceModel:
    """Load from `models:/name/version|latest`, `runs:/<id>/model`, any MLflow URI, or a local directory."""
    path = Path(model)
    if path.exists():
        return models.load(_local_model_dir(path))
    if "://" not in model and ":/" not in model:
        raise FileNotFoundError(f"model {model!r} is neither an existing path nor an MLflow URI "
                                f"(models:/NAME/latest, runs:/RUN_ID/model)")
    import mlflow.artifacts

    from .tracking import configure

    configure(None)
    local = mlflow.artifacts.download_artifacts(artifact_uri=model)
    return models.load(_local_model_dir(Path(local)))


def resolve_targets(model: StanceModel, target: str | Sequence[str] | None, n: int) -> list[str]:
    if target is None:
        known = model.targets
        if len(known) > 1:
            raise ValueError(f"this model was trained on {len(known)} targets; pass target= one of {known}")
        target = known[0] if known else ""
    if isinstance(target, str):
        return [target] * n
    targets = list(target)
    if len(targets) != n:
        raise ValueError(f"got {len(targets)} targets for {n} texts")
    return targets


def predict(texts: str | Sequence[str], model: str | StanceModel, target: str | Sequence[str] | None = None
            ) -> Prediction | list[Prediction]:
    """Stance of one statement (returns one Prediction) or of a list (returns a list, in input order)."""
    single = isinstance(texts, str)
    items = [texts] if single else list(texts)
    errors = {i: why for i, t in enumerate(items) if (why := check_text(t))}
    if errors:
        raise InvalidInputError(errors, len(items))
    m = load_model(str(model)) if not isinstance(model, StanceModel) else model
    targets = resolve_targets(m, target, len(items))
    proba = m.predict_proba(items, targets) if items else []
    out = [Prediction(text=t, target=tg, label=m.labels[int(p.argmax())],
                      scores={lab: float(p[j]) for j, lab in enumerate(m.labels)})
           for t, tg, p in zip(items, targets, proba)]
    return out[0] if single else out


def score_frame(model: StanceModel, frame: pd.DataFrame) -> pd.DataFrame:
    """DataFrame in (text[, target]) -> DataFrame out (label + one column per label): the pyfunc contract."""
    if "text" not in frame.columns:
        raise InvalidInputError({0: f"input has no 'text' column (columns: {list(frame.columns)})"}, len(frame))
    target = frame["target"].tolist() if "target" in frame.columns else None
    if target is not None:
        # Rows without a target get the model's own, when it has exactly one (or none).
        default = resolve_targets(model, None, 1)[0] if len(model.targets) <= 1 else None
        target = [t if isinstance(t, str) and t.strip() else default for t in target]
    preds = predict(frame["text"].tolist(), model, target=target)
    out = pd.DataFrame({"label": [p.label for p in preds]})
    for lab in model.labels:
        out[lab] = [p.scores[lab] for p in preds]
    return out
