"""Labelling statements with a saved or tracked model: model references (refs: a folder, `runs:/`, `models:/NAME/N`,
`@alias`), the checks and the one scoring step (scoring: `score`, and `stance.predict` on top of it), statements
read in chunks from files and stdin (records), results written for programs or people (output), and the MLflow
pyfunc (pyfunc, pyfunc_entry). `stance predict`: cli/predict.py -> refs -> records -> scoring -> output.
"""
from .refs import load_model
from .scoring import InvalidInputError, Prediction, predict, score

__all__ = ["InvalidInputError", "Prediction", "load_model", "predict", "score"]
