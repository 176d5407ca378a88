"""The MLflow pyfunc that wraps any saved StanceModel, for `mlflow models serve`, spark_udf and pyfunc users, and
its contract (`score_frame`; train logs an example of it as the model's signature).

Logged as "models from code" (ENTRY_FILE, pyfunc_entry.py, is the file MLflow runs) so no pickled Python object
is stored. Models logged before the package had subfolders run an entry file that imports stance.serving: that
module stays, naming the class below.

Input: a DataFrame with a `text` column and an optional `target` column.
Output: a DataFrame with `label` and one probability column per label.
Invalid statements reject the whole request (HTTP 400 from `mlflow models serve`) with a message naming
every bad index: no row is dropped or labelled silently.
"""
from __future__ import annotations

from pathlib import Path

import mlflow.pyfunc
import pandas as pd

from ..models.base import StanceModel
from .scoring import InvalidInputError, predict

ARTIFACT = "stance_model"  # where the saved StanceModel folder sits among the logged model's artifacts
CODE_DIR = "stance_code"  # the artifact holding a copy of the package, used where none is installed (ENTRY_FILE)
ENTRY_FILE = Path(__file__).with_name("pyfunc_entry.py")


def score_frame(model: StanceModel, frame: pd.DataFrame) -> pd.DataFrame:
    """DataFrame in (text[, target]) -> DataFrame out (label + one column per label): the pyfunc contract."""
    if "text" not in frame.columns:
        raise InvalidInputError({0: f"input has no 'text' column (columns: {list(frame.columns)})"}, len(frame))
    preds = predict(frame, model)
    out = pd.DataFrame({"label": [p.label for p in preds]})
    for lab in model.labels:
        out[lab] = [p.scores[lab] for p in preds]
    return out


class StancePyfunc(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from .. import models

        self.model = models.load(Path(context.artifacts[ARTIFACT]))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from mlflow.exceptions import MlflowException

        try:
            return score_frame(self.model, model_input)
        except InvalidInputError as e:
            # An MlflowException keeps our message in the server's 400 answer (others become a generic 400).
            raise MlflowException.invalid_parameter_value(str(e)) from e


def scoring_app(model_uri: str):
    """MLflow's own scoring app (the one `mlflow models serve` runs) for a model URI or folder."""
    from mlflow.pyfunc import scoring_server

    return scoring_server.init(mlflow.pyfunc.load_model(model_uri))
