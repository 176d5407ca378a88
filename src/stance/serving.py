"""The MLflow pyfunc that wraps any saved StanceModel, for `mlflow models serve`, spark_udf and pyfunc users.

Logged as "models from code" (see pyfunc_entry.py) so no pickled Python object is stored.
Input: a DataFrame with a `text` column and an optional `target` column.
Output: a DataFrame with `label` and one probability column per label.
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
        from .predict import score_frame

        return score_frame(self.model, model_input)
