"""The MLflow pyfunc's contract: a DataFrame in (text[, target]), a DataFrame out (label and one score column per
label). serving.py answers with it; train logs an example of it as the model's signature."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .inputs import InvalidInputError
from .models.base import StanceModel
from .prediction import predict

if TYPE_CHECKING:
    import pandas as pd


def score_frame(model: StanceModel, frame: pd.DataFrame) -> pd.DataFrame:
    """DataFrame in (text[, target]) -> DataFrame out (label + one column per label): the pyfunc contract."""
    import pandas as pd

    if "text" not in frame.columns:
        raise InvalidInputError({0: f"input has no 'text' column (columns: {list(frame.columns)})"}, len(frame))
    preds = predict(frame, model)
    out = pd.DataFrame({"label": [p.label for p in preds]})
    for lab in model.labels:
        out[lab] = [p.scores[lab] for p in preds]
    return out
