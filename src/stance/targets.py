"""Which target each statement is scored against: the model's own when it has one, else the caller's, checked
against what the model can score."""
from __future__ import annotations

from typing import Sequence

from .models.base import StanceModel


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
