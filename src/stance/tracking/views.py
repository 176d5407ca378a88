"""What the MLflow UI shows: the runs table's saved view (headline metrics first), the latest training run of each
kind, and for `stance ui` the server command (bound to the loopback interface by default) and the direct links
that open the UI on the training runs and on the comparison of the latest model of each kind."""
from __future__ import annotations

import json
import sys
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import mlflow

from ..evaluation.summary import headline_metrics
from ..runtime.distributed import main_process_only
from .store import configure, resolve_uri

# ---------------------------------------------------------------- what the MLflow UI shows first
# MLflow 3.17's UI chooses between its GenAI pages and the training-runs view from the `workflowType` URL
# parameter (else the browser's saved choice, GenAI in a fresh profile), not from the experiment's
# `mlflow.experimentKind` tag: the links `stance ui` prints carry `workflowType=machine_learning` (TRAINING_VIEW below).
# The runs table shows the columns of a saved view, an experiment tag `mlflow.sharedViewState.<key>` opened
# with `?viewStateShareKey=<key>`; the runs page's chart view leads with `mlflow.experiment.primaryMetric.name`.
RUNS_VIEW_KEY = "stance-headline"
_VIEW_TAG = "mlflow.sharedViewState."
_PRIMARY_METRIC_TAG = "mlflow.experiment.primaryMetric.name"
# After the metrics, the registered model (the wide Dataset column is left out: each Description names the data).
_VIEW_COLUMNS = ("attributes.`Models`",)


def _column(metric: str) -> str:
    return f"metrics.`{metric}`"  # the UI's column key for a metric


@main_process_only
def show_first(experiment_id: str, metrics: list[str]) -> None:
    """Make `metrics` the runs table's columns (in the experiment's saved view) and the first chart."""
    if not metrics:
        return
    client = mlflow.MlflowClient()
    tag = _VIEW_TAG + RUNS_VIEW_KEY
    now = int(time.time() * 1000)
    try:
        created = json.loads(client.get_experiment(experiment_id).tags[tag])["createdAt"]
    except (KeyError, TypeError, ValueError):
        created = now
    # columnOrder moves the metrics next to the run names (the UI otherwise puts them after every attribute
    # column); widths apply only to ordered columns, and fit a full-precision value (0.5555555555555556).
    columns = [*map(_column, metrics), *_VIEW_COLUMNS]
    state = {"selectedColumns": columns, "columnOrder": columns, "columnWidths": {_column(m): 170 for m in metrics}}
    # The envelope the UI's "Views" menu lists (name, times) around the view state it applies.
    view = {"name": "Headline metrics", "createdAt": created, "updatedAt": now, "state": json.dumps(state)}
    client.set_experiment_tag(experiment_id, tag, json.dumps(view))
    client.set_experiment_tag(experiment_id, _PRIMARY_METRIC_TAG, metrics[0])


@dataclass
class TrainingRuns:
    """An experiment's latest finished training run of each model kind (newest kind first)."""
    experiment_id: str
    experiment_name: str
    latest: dict[str, Any]  # model kind -> mlflow Run
    comparison: Any = None  # the latest comparison run (stance compare, make demo): winner and difference


def latest_training_runs(uri: str | None, experiment: str | None = None) -> TrainingRuns | None:
    """The named experiment, else the one holding the most recent training run; None when there is none.

    A training run carries the `model_kind` tag and no `run_type` (evaluation and experiment parent runs do)."""
    configure(uri)
    client = mlflow.MlflowClient()
    if experiment is not None:
        found = client.get_experiment_by_name(experiment)
        if found is None:
            raise ValueError(f"no MLflow experiment named {experiment!r} in {resolve_uri(uri)}")
        ids = [found.experiment_id]
    else:
        ids = [e.experiment_id for e in client.search_experiments()]
    if not ids:
        return None
    finished = client.search_runs(ids, "attributes.status = 'FINISHED'", max_results=1000,
                                  order_by=["attributes.start_time DESC"])
    runs = [r for r in finished if "model_kind" in r.data.tags and "run_type" not in r.data.tags]
    if not runs:
        return TrainingRuns(ids[0], experiment, {}) if experiment is not None else None
    exp_id = runs[0].info.experiment_id
    latest: dict[str, Any] = {}
    for r in runs:
        if r.info.experiment_id == exp_id:
            latest.setdefault(r.data.tags["model_kind"], r)
    comparison = next((r for r in finished if r.info.experiment_id == exp_id
                       and r.data.tags.get("run_type") == "comparison"), None)
    return TrainingRuns(exp_id, client.get_experiment(exp_id).name, latest, comparison)


DEFAULT_HOST = "127.0.0.1"  # the UI has no authentication: never expose it unless asked to
# MLflow 3.17 opens its GenAI pages unless the URL asks for the model-training view (a fresh browser has no
# saved choice); every link carries this.
TRAINING_VIEW = "workflowType=machine_learning"


def ui_command(uri: str | None = None, host: str = DEFAULT_HOST, port: int = 5000) -> list[str]:
    store = resolve_uri(uri)
    if store.startswith(("http://", "https://")):
        raise ValueError(f"the tracking URI {store} is already a server: open it in a browser")
    # One worker and no job runner: ~0.5 GB instead of ~3 GB (measured, see ENVIRONMENT notes in the README).
    # The store URI (maybe with a password) is not on the command line, where `ps` shows it to every user:
    # the server reads it from MLFLOW_BACKEND_STORE_URI (ui_environment).
    return [sys.executable, "-m", "mlflow", "server", "--host", host, "--port", str(port), "--workers", "1"]


def ui_environment(uri: str | None = None) -> dict[str, str]:
    """What `ui_command` needs in its environment: the store URI and no job runner."""
    return {"MLFLOW_BACKEND_STORE_URI": resolve_uri(uri), "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


def base_url(host: str, port: int) -> str:
    """Where a browser on this machine reaches the server (a wildcard bind is reached on the loopback)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}"


def runs_link(base: str, experiment_id: str) -> str:
    """The experiment's training runs, with the headline-metric columns of its saved view."""
    return f"{base}/#/experiments/{experiment_id}/runs?{TRAINING_VIEW}&viewStateShareKey={RUNS_VIEW_KEY}"


def run_link(base: str, experiment_id: str, run_id: str) -> str:
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}?{TRAINING_VIEW}"


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
    lines = [f"Experiment {found.experiment_name!r}"]
    if found.comparison is not None:  # first: the page that says which model is better and by how much
        lines += [f"  comparison ({found.comparison.info.run_name}):",
                  f"    {run_link(base, found.experiment_id, found.comparison.info.run_id)}"]
    lines.append(f"  training runs: {urls['runs']}")
    if "compare" in urls:
        kinds = " vs ".join(f"{k} ({found.latest[k].info.run_name})" for k in sorted(found.latest))
        lines += [f"  compare {kinds}:", f"    {urls['compare']}"]
    elif found.latest:
        lines.append(f"  one model kind so far ({', '.join(found.latest)}): train another kind to compare them")
    return "\n".join(lines)
