"""Label new statements with any tracked or saved model: `stance.predict(texts, model=URI_OR_PATH)`.

The checks it applies live in inputs.py (statements) and targets.py; model references in model_refs.py.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Sequence

from . import models
from .inputs import InvalidInputError, check_text, clean_text
from .model_refs import default_model, load_model
from .models.base import StanceModel
from .targets import check_target, column_targets, resolve_targets

if TYPE_CHECKING:  # `import stance` (and so `stance --help`) must not cost pandas
    import pandas as pd

OnInvalid = Literal["raise", "mark"]


@dataclass(frozen=True)
class Prediction:
    """One statement's result. An invalid input (on_invalid="mark") has `error` set and no label."""

    text: str
    label: str | None
    scores: dict[str, float]
    target: str = ""
    error: str | None = None
    abstained: bool = False  # top score below min_confidence: label and scores are kept, flagged unsure
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def valid(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        if self.error is not None:
            return {"text": self.text, "target": self.target, "error": self.error}
        return {"text": self.text, "target": self.target, "label": self.label, "scores": self.scores,
                "abstained": self.abstained}


_ACCEPTED = "a string, a list of strings, a pandas Series of texts or a DataFrame with a 'text' column"


def _items(texts: object, target: object) -> tuple[list, object, bool]:
    """(statements, target, whether the target came from a DataFrame's 'target' column); one message for
    anything that is not a statement or a collection of them, instead of one per character or key."""
    if isinstance(texts, (bytes, bytearray)):
        raise TypeError(f"predict() takes {_ACCEPTED}; got {type(texts).__name__} (decode it first, "
                        f"e.g. data.decode('utf-8'))")
    pd = sys.modules.get("pandas")  # not imported yet: then `texts` cannot be a pandas object
    if pd is not None and isinstance(texts, pd.DataFrame):
        if "text" not in texts.columns:
            raise ValueError(f"predict() got a DataFrame without a 'text' column (columns: {list(texts.columns)})")
        if "target" not in texts.columns:
            return texts["text"].tolist(), target, False
        if target is not None:
            raise ValueError("predict() got a DataFrame with a 'target' column and target=; give one of them")
        return texts["text"].tolist(), texts["target"].tolist(), True
    if pd is not None and isinstance(texts, pd.Series):
        return texts.tolist(), target, False
    if isinstance(texts, Mapping) or not isinstance(texts, Iterable):
        hint = " (for its values: list(d.values()))" if isinstance(texts, Mapping) else ""
        raise TypeError(f"predict() takes {_ACCEPTED}; got {type(texts).__name__}{hint}")
    return list(texts), target, False


def predict(texts: str | Sequence[str] | pd.Series | pd.DataFrame, model: str | StanceModel | None = None,
            target: str | Sequence[str] | None = None, *, on_invalid: OnInvalid = "raise",
            min_confidence: float | None = None, inference: str | None = None) -> Prediction | list[Prediction]:
    """Stance of one statement (returns one Prediction) or of a list (returns a list, in input order).

    `texts` may also be a pandas Series of statements, or a DataFrame scored by its `text` column (and its
    `target` column when it has one), as the MLflow pyfunc does.

    on_invalid="raise" (default) raises InvalidInputError naming every bad index before scoring anything;
    "mark" scores every valid item and returns invalid ones as Predictions with `error` set.
    min_confidence: results whose top score is below it are returned with abstained=True.
    model: a loaded model, a folder or an MLflow URI; None: the champion, models:/stance@champion (or
    $STANCE_MODEL), set by `make demo` or `stance promote`.
    inference: a transformer's prediction path (fp32 | bf16 | int8 | onnx | onnx-int8 | auto = as saved); given a
    loaded model, this switches that model's path.
    """
    if on_invalid not in ("raise", "mark"):
        raise ValueError(f"on_invalid must be 'raise' or 'mark', got {on_invalid!r}")
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be between 0 and 1, got {min_confidence}")
    single = isinstance(texts, str)
    items, target, from_column = ([texts], target, False) if single else _items(texts, target)
    if isinstance(model, StanceModel):
        m = model
        if inference is not None:
            models.check_inference(m.kind, inference, "this", allow_auto=False)
            m.set_inference(inference)
    else:
        m = load_model(str(model) if model is not None else default_model(), inference)
    targets = column_targets(m, target) if from_column else resolve_targets(m, target, len(items))
    errors = {i: why for i, (t, tg) in enumerate(zip(items, targets)) if (why := check_text(t) or check_target(m, tg))}
    if errors and on_invalid == "raise":
        raise InvalidInputError(errors, len(items))
    ok = [i for i in range(len(items)) if i not in errors]
    proba = m.predict_proba([clean_text(items[i]) for i in ok], [targets[i] for i in ok]) if ok else []
    out: list[Prediction] = [None] * len(items)  # type: ignore[list-item]
    for i, why in errors.items():
        t, tg = items[i], targets[i]
        out[i] = Prediction(text=t if isinstance(t, str) else repr(t)[:200], target=tg if isinstance(tg, str) else "",
                            label=None, scores={}, error=why)
    for i, p in zip(ok, proba):
        out[i] = Prediction(text=items[i], target=targets[i], label=m.labels[int(p.argmax())],
                            scores={lab: float(p[j]) for j, lab in enumerate(m.labels)},
                            abstained=min_confidence is not None and float(p.max()) < min_confidence)
    return out[0] if single else out


