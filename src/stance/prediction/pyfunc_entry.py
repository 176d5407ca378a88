"""Entry file for MLflow's models-from-code logging: MLflow copies and runs it when loading the model."""
from mlflow.models import set_model

from stance.prediction.pyfunc import StancePyfunc

set_model(StancePyfunc())
