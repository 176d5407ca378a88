"""stance: label statements FAVOR / AGAINST / NONE toward a policy target, tracked in MLflow."""
# These import no third-party package at import time, so `stance --help` stays fast. No module is named like a
# function here (predict, train): importing the module would replace the function on the package.
from .prediction import Prediction, load_model, predict

__version__ = "0.1.0"


def train(cfg):
    """Train from a Config (see stance.config.load_config); returns a TrainResult."""
    from .workflows.training import train as _train

    return _train(cfg)


__all__ = ["predict", "load_model", "train", "Prediction", "__version__"]
