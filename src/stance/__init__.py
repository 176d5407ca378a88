"""stance: label statements FAVOR / AGAINST / NONE toward a policy target, tracked in MLflow."""
# These import no third-party package at import time, so `stance --help` stays fast. No module is named like a
# function here (predict, train): importing the module would replace the function on the package.
from .prediction import Prediction, load_model, predict

__version__ = "0.1.0"


def train(cfg):
    """Train from a Config (see stance.config.load_config); returns a TrainResult."""
    from .workflows.training import train as _train

    return _train(cfg)


def measure(statements=None, *, model=None, by=None, labels=None, **options):
    """Each label's share per group (and period) with 95% intervals, as a pandas DataFrame with the columns group,
    period, label, method (cc, adjusted, ppi, classical), estimate, ci_low, ci_high, n, n_labelled, note.

    statements: a file, a DataFrame (text, id and the group columns) or a list of texts; labels: a label log,
    {id: label} or a DataFrame (id, label) for a random sample of them. Options: predictions=, time=, freq=,
    sample=, dev=, seed=, track= (an MLflow run, default True); see docs/measure.md."""
    from .workflows.measure import measure as _measure

    return _measure(statements, model=model, by=by, labels=labels, **options).table


__all__ = ["predict", "load_model", "train", "measure", "Prediction", "__version__"]
