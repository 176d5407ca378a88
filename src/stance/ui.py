"""`stance ui`: the MLflow UI over this project's store, bound to the loopback interface by default, and the
direct links that open it on the training runs and on the comparison of the latest model of each kind."""
from __future__ import annotations

import json
import sys
import urllib.parse

from .table import headline_metrics
from .tracking import RUNS_VIEW_KEY, TrainingRuns, resolve_uri

DEFAULT_HOST = "127.0.0.1"  # the UI has no authentication: never expose it unless asked to
# MLflow 3.17 opens its GenAI pages unless the URL asks for the model-training view (a fresh browser has no
# saved choice); every link carries this.
TRAINING_VIEW = "workflowType=machine_learning"


def ui_command(uri: str | None = None, host: str = DEFAULT_HOST, port: int = 5000) -> list[str]:
    store = resolve_uri(uri)
    if store.startswith(("http://", "https://")):
        raise ValueError(f"the tracking URI {store} is already a server: open it in a browser")
    # One worker and no job runner: ~0.5 GB instead of ~3 GB (measured, see ENVIRONMENT notes in the README).
    return [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", store, "--host", host,
            "--port", str(port), "--workers", "1"]


def base_url(host: str, port: int) -> str:
    """Where a browser on this machine reaches the server (a wildcard bind is reached on the loopback)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}"


def runs_link(base: str, experiment_id: str) -> str:
    """The experiment's training runs, with the headline-metric columns of its saved view."""
    return f"{base}/#/experiments/{experiment_id}/runs?{TRAINING_VIEW}&viewStateShareKey={RUNS_VIEW_KEY}"


def compare_link(base: str, experiment_id: str, run_ids: list[str]) -> str:
    q = urllib.parse.quote
    return (f"{base}/#/compare-runs?runs={q(json.dumps(run_ids))}&experiments={q(json.dumps([experiment_id]))}"
            f"&{TRAINING_VIEW}")


def links(base: str, found: TrainingRuns) -> dict[str, str]:
    """'runs' always; 'compare' when the experiment has runs of two or more model kinds (one run of each,
    the latest, ordered by kind)."""
    out = {"runs": runs_link(base, found.experiment_id)}
    if len(found.latest) >= 2:
        out["compare"] = compare_link(base, found.experiment_id,
                                      [found.latest[k].info.run_id for k in sorted(found.latest)])
    return out


def view_metrics(found: TrainingRuns) -> list[str]:
    """The headline metrics of the latest runs, in reading order, each once."""
    return list(dict.fromkeys(m for k in sorted(found.latest) for m in headline_metrics(found.latest[k].data.metrics)))


def describe_links(found: TrainingRuns | None, base: str, store: str) -> str:
    """What `stance ui` prints before the server starts."""
    if found is None:
        return f"No training runs in {store} yet (`make demo` trains two). The UI: {base}"
    urls = links(base, found)
    lines = [f"Experiment {found.experiment_name!r}", f"  training runs: {urls['runs']}"]
    if "compare" in urls:
        kinds = " vs ".join(f"{k} ({found.latest[k].info.run_name})" for k in sorted(found.latest))
        lines += [f"  compare {kinds}:", f"    {urls['compare']}"]
    elif found.latest:
        lines.append(f"  one model kind so far ({', '.join(found.latest)}): train another kind to compare them")
    return "\n".join(lines)
