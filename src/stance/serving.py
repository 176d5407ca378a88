"""The MLflow pyfunc that wraps any saved StanceModel, for `mlflow models serve`, spark_udf and pyfunc users.

Logged as "models from code" (see pyfunc_entry.py) so no pickled Python object is stored.
Input: a DataFrame with a `text` column and an optional `target` column.
Output: a DataFrame with `label` and one probability column per label.
Invalid statements reject the whole request (HTTP 400 from `mlflow models serve`) with a message naming
every bad index: no row is dropped or labelled silently.
"""
from __future__ import annotations

from pathlib import Path

import mlflow.pyfunc
import pandas as pd

ARTIFACT = "stance_model"


class StancePyfunc(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from . import models

        self.model = models.load(Path(context.artifacts[ARTIFACT]))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from mlflow.exceptions import MlflowException

        from .inputs import InvalidInputError
        from .pyfunc_frame import score_frame

        try:
            return score_frame(self.model, model_input)
        except InvalidInputError as e:
            # An MlflowException keeps our message in the server's 400 answer (others become a generic 400).
            raise MlflowException.invalid_parameter_value(str(e)) from e
