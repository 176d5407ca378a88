"""What counts as a statement a model can score: the checks predict, explain and the MLflow pyfunc share."""
from __future__ import annotations

import re

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


def clean_text(text: str) -> str:
    """What the model sees: control characters become spaces (the input is otherwise untouched)."""
    return _CONTROL.sub(" ", text)
