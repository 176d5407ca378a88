"""Kept for MLflow models logged before the package redesign (issue 28): their copied entry file runs
`from stance.serving import StancePyfunc`. The class lives in stance.prediction.pyfunc; nothing else imports this."""
from .prediction.pyfunc import StancePyfunc

__all__ = ["StancePyfunc"]
