"""stance: label statements FAVOR / AGAINST / NONE toward a policy target, tracked in MLflow."""
# stance.predict imports no third-party package at import time, so `stance --help` stays fast.
from .predict import Prediction, load_model, predict

__version__ = "0.1.0"


def train(cfg):
    """Train from a Config (see stance.config.load_config); returns a TrainResult."""
    from .train import train as _train

    return _train(cfg)


__all__ = ["predict", "load_model", "train", "Prediction", "__version__"]
