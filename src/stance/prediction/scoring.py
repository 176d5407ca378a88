"""Scoring statements with a model: what a statement must be, which target it is scored against, and the one
`score()` that every caller uses (stance.predict, stance predict's streams, explain, annotate, the MLflow pyfunc and
Spark through it): check each statement and target, clean, predict_proba, pick the label, build the Prediction.
"""
from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Sequence

from .. import models
from ..models.base import StanceModel
from .refs import default_model, load_model

if TYPE_CHECKING:  # `import stance` (and so `stance --help`) must not cost pandas
    import pandas as pd

OnInvalid = Literal["raise", "mark"]

# ---------------------------------------------------------------- what a statement must be

# C0/C1 control characters other than tab and newlines: noise from PDFs and scrapes, scored as spaces.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class InvalidInputError(ValueError):
    """Statements that cannot be scored; `.errors` maps index -> reason."""

    def __init__(self, errors: dict[int, str], total: int):
        self.errors = errors
        shown = "; ".join(f"index {i}: {why}" for i, why in list(errors.items())[:10])
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        super().__init__(f"{len(errors)} of {total} inputs are invalid: {shown}{more}")


def check_text(text: object) -> str | None:
    """Why a statement cannot be scored, or None when it can."""
    if text is None:
        return "None is not a statement"
    if isinstance(text, float) and text != text:  # pandas (and JSON null through a DataFrame) give NaN
        return "missing text (NaN/null) is not a statement"
    if isinstance(text, (bytes, bytearray)):
        return "expected a string, got bytes (decode it first, e.g. text.decode('utf-8'))"
    if not isinstance(text, str):
        return f"expected a string, got {type(text).__name__}"
    if _SURROGATE.search(text):
        return "contains unpaired surrogate code points (not valid Unicode text)"
    if not _CONTROL.sub(" ", text).strip():
        return "empty text (only whitespace or control characters)"
    return None


# The most characters of one statement a model reads (about 15,000 words, far beyond any statement): a 50 MB
# "statement" would otherwise take gigabytes (TF-IDF's n-grams). The prediction keeps the whole text.
MAX_MODEL_CHARS = 100_000


def clean_text(text: str) -> str:
    """What the model sees: control characters become spaces, and at most MAX_MODEL_CHARS characters."""
    return _CONTROL.sub(" ", text[:MAX_MODEL_CHARS])


# ---------------------------------------------------------------- which target


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


def check_target(model: StanceModel, target: object) -> str | None:
    """Why a target cannot be used with this model, or None. Models that read the target as text
    (the transformer) accept any target; models that one-hot it (TF-IDF) know only their training targets."""
    if not isinstance(target, str) or not target.strip():
        return f"target must be a non-empty string, got {target!r}"
    if not model.accepts_unseen_targets and model.targets and target not in model.targets:
        return (f"target {target!r} was not seen in training and this {model.kind} model cannot score it "
                f"(known targets: {model.targets})")
    return None


def column_targets(model: StanceModel, column: list) -> list:
    """A DataFrame's 'target' column: blank rows get the model's own target when it has exactly one (the pyfunc rule)."""
    default = resolve_targets(model, None, 1)[0] if len(model.targets) <= 1 else None
    return [t if isinstance(t, str) and t.strip() else default for t in column]


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
    out = score(m, items, targets, on_invalid=on_invalid, min_confidence=min_confidence)
    return out[0] if single else out


# ---------------------------------------------------------------- the one scoring step


def score(model: StanceModel, items: Sequence[object], targets: Sequence[object], *,
          on_invalid: OnInvalid = "mark", min_confidence: float | None = None) -> list[Prediction]:
    """One Prediction per item, in input order: every statement and target checked (check_text, check_target),
    the valid ones cleaned and scored in one predict_proba call, each labelled with its top score.

    on_invalid="mark": invalid items come back with `error` set and no label; "raise": InvalidInputError naming
    every bad index, before anything is scored. min_confidence: top scores below it are flagged abstained.
    """
    errors = {i: why for i, (t, tg) in enumerate(zip(items, targets))
              if (why := check_text(t) or check_target(model, tg))}
    if errors and on_invalid == "raise":
        raise InvalidInputError(errors, len(items))
    ok = [i for i in range(len(items)) if i not in errors]
    proba = model.predict_proba([clean_text(items[i]) for i in ok], [targets[i] for i in ok]) if ok else []
    out: list[Prediction] = [None] * len(items)  # type: ignore[list-item]
    for i, why in errors.items():
        t, tg = items[i], targets[i]
        out[i] = Prediction(text=t if isinstance(t, str) else repr(t)[:200], target=tg if isinstance(tg, str) else "",
                            label=None, scores={}, error=why)
    for i, p in zip(ok, proba):
        out[i] = Prediction(text=items[i], target=targets[i], label=model.labels[int(p.argmax())],
                            scores={lab: float(p[j]) for j, lab in enumerate(model.labels)},
                            abstained=min_confidence is not None and float(p.max()) < min_confidence)
    return out
