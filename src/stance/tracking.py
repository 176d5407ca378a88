"""Everything that talks to MLflow, in one place: store, runs, params, datasets, metrics, artifacts, models."""
from __future__ import annotations

import contextlib
import functools
import json
import os
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

import mlflow
import yaml

from . import distributed, store_check
from .config import Config, flatten
from .masking import is_secret_key, mask, mask_tree
from .store_check import TrackingError  # noqa: F401  (raised here too; callers import it from tracking)

if TYPE_CHECKING:  # annotations only: resolving a model URI for `stance predict` needs neither
    import pandas as pd

    from .data import StanceData
    from .evaluation.scoring import Evaluation

DEFAULT_URI = "sqlite:///mlflow.db"
PARAM_MAX = 500  # MLflow's value limit is larger; long values (lists of paths) stay readable in the UI


F = TypeVar("F", bound=Callable[..., Any])


def main_process_only(fn: F) -> F:
    """Under torchrun/accelerate only rank 0 writes to MLflow; the other ranks' calls do nothing."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs) if distributed.is_main_process() else None
    return wrapper  # type: ignore[return-value]


def resolve_uri(uri: str | None) -> str:
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI


def configure(uri: str | None) -> str:
    """Point MLflow at the store and return its URI (without credentials). The store must answer within
    seconds (server, database) or be writable (sqlite), else one TrackingError line, not minutes of retries."""
    store = store_check.split_credentials(resolve_uri(uri))
    if store.username is None:
        _withdraw_credentials()  # before the check, which would send them
    store_check.check(store)
    if store.username is not None:
        # MLflow takes basic-auth credentials from these variables, never from the URI (which it would log).
        _EXPORTED.update(MLFLOW_TRACKING_USERNAME=store.username, MLFLOW_TRACKING_PASSWORD=store.password or "")
        os.environ.update(_EXPORTED)
    if store.sqlite_path is not None:
        _create_sqlite_store(store.uri, store.sqlite_path)
    mlflow.set_tracking_uri(store.uri)
    return store.uri


_EXPORTED: dict[str, str] = {}  # credential variables this process set from a URI


def _withdraw_credentials() -> None:
    """Credentials exported for an earlier URI were not meant for a store whose URI has none."""
    for var, value in list(_EXPORTED.items()):
        if os.environ.get(var) == value:
            del os.environ[var]
        del _EXPORTED[var]


def current_uri() -> str:
    """The store MLflow writes to now (credentials are never part of it)."""
    return mlflow.get_tracking_uri()


_SQLITE_READY: set[str] = set()
SQLITE_LOCK_WAIT_S = 120


def _create_sqlite_store(uri: str, path: Path) -> None:
    """Create (or migrate) a sqlite store under a file lock, once per process: two processes migrating a fresh
    store at once break MLflow's migration ("duplicate column name: step")."""
    key = str(path.resolve())  # a relative sqlite:///mlflow.db is another file after a chdir
    if key in _SQLITE_READY:
        return
    from filelock import FileLock, Timeout

    lock = Path(f"{path}.lock")
    try:
        with FileLock(lock, timeout=SQLITE_LOCK_WAIT_S):
            mlflow.MlflowClient(uri).search_experiments(max_results=1)  # builds the schema while we hold the lock
    except Timeout:
        raise TrackingError(f"MLflow store {path}: another process held {lock} for {SQLITE_LOCK_WAIT_S} s "
                            f"(creating the store); try again") from None
    except PermissionError as e:
        raise TrackingError(f"MLflow store {path}: its folder is read-only ({e.strerror}); sqlite needs to write "
                            f"beside the file; set MLFLOW_TRACKING_URI to a store you can write") from None
    _SQLITE_READY.add(key)


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent)
        return out.stdout.strip() if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@contextlib.contextmanager
def run(experiment: str, *, uri: str | None = None, tags: dict[str, str] | None = None,
        run_name: str | None = None, run_id: str | None = None,
        parent_run_id: str | None = None) -> Iterator[mlflow.ActiveRun]:
    """An MLflow run that always ends with a true status: FINISHED, FAILED, or KILLED on Ctrl-C/SIGTERM.

    Under torchrun/accelerate only rank 0 opens the run; the other ranks get a stand-in carrying its ids.
    """
    if not distributed.is_main_process():
        run_id, experiment_id = distributed.share_from_main(None)
        yield SimpleNamespace(info=SimpleNamespace(run_id=run_id, experiment_id=experiment_id))  # type: ignore[misc]
        return
    configure(uri)
    exp = mlflow.set_experiment(experiment)
    if "mlflow.experimentKind" not in exp.tags:
        # MLflow 3's UI opens GenAI pages unless an experiment says it holds model training runs.
        mlflow.set_experiment_tag("mlflow.experimentKind", "custom_model_development")
    commit = git_commit()
    # Secret-looking keys stay out of tags entirely; URI passwords are masked, in the run name too.
    tags = {"git_commit": commit, "mlflow.source.git.commit": commit,
            **{k: mask(v) for k, v in (tags or {}).items() if not is_secret_key(k)}}
    active = mlflow.start_run(run_id=run_id, run_name=None if run_id or run_name is None else mask(run_name), tags=tags,
                              parent_run_id=parent_run_id, nested=parent_run_id is not None)
    try:
        distributed.share_from_main((active.info.run_id, active.info.experiment_id))
        yield active
    except (KeyboardInterrupt, SystemExit) as e:
        mlflow.end_run(status="KILLED")
        if not hasattr(e, "killed_run_id"):  # the innermost run: what the CLI reports as KILLED
            e.killed_run_id = active.info.run_id  # type: ignore[union-attr]
        raise
    except BaseException:
        mlflow.end_run(status="FAILED")
        raise
    else:
        mlflow.end_run(status="FINISHED")


@contextlib.contextmanager
def _writing_artifacts(run_id: str | None = None) -> Iterator[None]:
    """A full disk or unwritable artifact root becomes one clear error naming where we tried to write (the active
    run's artifacts, or those of `run_id`)."""
    try:
        yield
    except OSError as e:
        where = mlflow.get_artifact_uri() if run_id is None else mlflow.MlflowClient().get_run(run_id).info.artifact_uri
        raise TrackingError(f"cannot write artifacts to {where}: "
                            f"{e.strerror or e} ({getattr(e, 'filename', None) or type(e).__name__})") from e


@main_process_only
def log_config(cfg: Config, used: dict[str, Any] | None = None) -> None:
    """The config as YAML (first artifact of every run, so an unwritable store fails before training), and as
    params; `used` replaces params whose configured value was not what the run used."""
    tree = mask_tree(cfg.model_dump(mode="json"))
    log_text(yaml.safe_dump(tree, sort_keys=False), "config.yaml")
    log_params({**flatten(tree), **(used or {})})


def check_resumable(run_id: str, cfg: Config) -> None:
    """`--resume RUN_ID` continues an unfinished run of the same config; anything else is refused up front."""
    from mlflow.exceptions import MlflowException

    from .config import ConfigError

    uri = configure(cfg.tracking.uri)
    try:
        status = mlflow.get_run(run_id).info.status
    except MlflowException:
        raise ConfigError(f"--resume {run_id}: no such run in {mask(uri)}") from None
    if status == "FINISHED":
        raise ConfigError(f"--resume {run_id}: the run already FINISHED; there is nothing to resume")
    logged = flatten(yaml.safe_load(mlflow.artifacts.load_text(f"runs:/{run_id}/config.yaml")))
    now = flatten(mask_tree(cfg.model_dump(mode="json")))  # compared as logged: masked the same way
    differ = sorted(k for k in logged.keys() | now.keys() if logged.get(k) != now.get(k))
    if differ:
        raise ConfigError(f"--resume {run_id}: this config differs from the run's at {differ}; "
                          f"resume with the config the run started with")


@main_process_only
def log_dataset(data: StanceData) -> None:
    """One MLflow dataset input per split, all carrying the digest of the whole labelled set."""
    for split, df in data.splits.items():
        with warnings.catch_warnings():
            # MLflow registers two equivalent local-file source types and warns that it picked one.
            warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
            ds = mlflow.data.from_pandas(df[["text", "target", "label"]], source=data.source, targets="label",
                                         name=f"{data.name}-{split}", digest=data.digest)
        mlflow.log_input(ds, context=split)
    mlflow.set_tag("dataset_digest", data.digest)
    mlflow.log_params({f"data.n_{s}": len(df) for s, df in data.splits.items()})
    if data.notes:
        log_text("\n".join(data.notes) + "\n", "data_notes.txt")


@main_process_only
def log_text(text: str, name: str) -> None:
    with _writing_artifacts():
        mlflow.log_text(text, name)


@main_process_only
def log_metrics(metrics: dict[str, float], step: int | None = None) -> None:
    mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=step)


@main_process_only
def log_params(params: dict[str, Any]) -> None:
    """Every param goes through here: values masked and cut to PARAM_MAX, credential-like keys never logged."""
    mlflow.log_params({k: mask(v)[:PARAM_MAX] for k, v in params.items() if not is_secret_key(k)})


@main_process_only
def log_artifact(path: Path, folder: str | None = None) -> None:
    with _writing_artifacts():
        mlflow.log_artifact(str(path), artifact_path=folder)


@main_process_only
def log_artifacts_to(run_id: str, files: list[Path], folder: str) -> None:
    """Files into <folder>/ of a run that need not be the active one (`stance compare --parent`)."""
    client = mlflow.MlflowClient()
    with _writing_artifacts(run_id):
        for f in files:
            client.log_artifact(run_id, str(f), artifact_path=folder)


def log_tables(tables: dict[str, pd.DataFrame], folder: str, run_id: str | None = None) -> None:
    """Tables the MLflow UI shows (Artifacts, and the evaluation view): <folder>/<name>.json, to the active
    run or to `run_id`."""
    for name, df in tables.items():
        # JSON has no NaN: empty cells become null.
        mlflow.log_table(df.astype(object).where(df.notna(), None), artifact_file=f"{folder}/{name}.json",
                         run_id=run_id)


def log_evaluation(ev: Evaluation, folder: str = "eval") -> None:
    """An evaluation's files (plots, CSVs, reports) and its tables."""
    for f in ev.files:
        log_artifact(f, folder)
    log_tables(ev.tables, folder)


def _pip_requirements(kind: str) -> list[str]:
    """Explicit pins: MLflow's inference is slow here and lists test tools and local +cpu tags."""
    from importlib.metadata import version

    def pin(dist: str) -> str:
        return f"{dist}=={version(dist).split('+')[0]}"

    from .config import KINDS

    common = ("mlflow", "pandas", "numpy", "scikit-learn", "skops", "pydantic", "pyyaml")
    return [pin(d) for d in (*common, *KINDS[kind].requirements)]


@main_process_only
def log_model(model_dir: Path, kind: str, registered_name: str | None, example: pd.DataFrame,
              example_output: pd.DataFrame) -> Any:
    """Log the saved model as a pyfunc (models from code, no pickle) and register it."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import ColSpec, Schema

    package = Path(__file__).parent
    signature = ModelSignature(
        inputs=Schema([ColSpec("string", "text"), ColSpec("string", "target", required=False)]),
        outputs=Schema([ColSpec("string", "label")] + [ColSpec("double", c) for c in example_output.columns[1:]]),
    )
    with _writing_artifacts():
        return mlflow.pyfunc.log_model(
            name="model",
            python_model=str(package / "pyfunc_entry.py"),
            artifacts={"stance_model": str(model_dir)},
            code_paths=[str(package)],
            signature=signature,
            input_example=example,
            pip_requirements=_pip_requirements(kind),
            registered_model_name=registered_name,
        )



def resolve_model_uri(uri: str) -> str:
    """`models:/NAME/latest` and `models:/NAME@ALIAS` as the version they point to now (`models:/NAME/7`), by one
    registry query; any other reference is returned as given. Raises MlflowException for an unknown name or alias."""
    if not uri.startswith("models:/"):
        return uri
    name, _, ref = uri[len("models:/"):].partition("/")
    client = mlflow.MlflowClient()
    if "@" in name and not ref:
        name, alias = name.split("@", 1)
        return f"models:/{name}/{client.get_model_version_by_alias(name, alias).version}"
    if ref == "latest":
        quoted = name.replace("'", "\\'")
        found = client.search_model_versions(f"name='{quoted}'", max_results=1, order_by=["version_number DESC"])
        if not found:
            raise mlflow.exceptions.MlflowException(f"registered model {name!r} has no versions ({uri})")
        return f"models:/{name}/{found[0].version}"
    return uri


def promote(model_uri: str, name: str, alias: str, description: str, tags: dict[str, str]) -> str:
    """Register `model_uri` (a logged model) as a new version of `name`, describe and tag it, and point `alias` at
    it; returns `models:/NAME/VERSION`. A model that already is a version of `name` is not registered twice."""
    client = mlflow.MlflowClient()
    quoted = name.replace("'", "\\'")
    same = [v for v in client.search_model_versions(f"name='{quoted}'") if v.source == model_uri]
    with _no_progress_bar():
        version = same[0].version if same else mlflow.register_model(model_uri, name).version
    client.update_model_version(name, version, description=mask(description))
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, mask(value))
    client.set_registered_model_alias(name, alias, version)
    return f"models:/{name}/{version}"


def version_source(uri: str) -> tuple[str, str | None]:
    """(the logged model a registered version or any model URI points to, the run that logged it)."""
    resolved = resolve_model_uri(uri)
    if resolved.startswith("models:/") and not resolved.startswith("models:/m-"):
        name, _, version = resolved[len("models:/"):].partition("/")
        v = mlflow.MlflowClient().get_model_version(name, version)
        return v.source, v.run_id
    return resolved, None


def run_metrics(run_id: str) -> dict[str, float]:
    return dict(mlflow.MlflowClient().get_run(run_id).data.metrics)


def latest_versions(exclude: str) -> list[str]:
    """`models:/NAME/N` of the newest version of every registered model but `exclude`."""
    client = mlflow.MlflowClient()
    out = []
    for rm in client.search_registered_models():
        if rm.name != exclude:
            quoted = rm.name.replace("'", "\\'")
            found = client.search_model_versions(f"name='{quoted}'", max_results=1, order_by=["version_number DESC"])
            out += [f"models:/{rm.name}/{found[0].version}"] if found else []
    return sorted(out)


def latest_version_metric(name: str, metric: str) -> tuple[str, float | None] | None:
    """(version, value of `metric` in the run that produced it) for the registered model's latest version, or None
    when nothing is registered under `name` yet."""
    try:
        version = resolve_model_uri(f"models:/{name}/latest").rsplit("/", 1)[1]
    except mlflow.exceptions.MlflowException:
        return None  # no such registered model, or no versions
    client = mlflow.MlflowClient()
    run_id = client.get_model_version(name, version).run_id
    return version, client.get_run(run_id).data.metrics.get(metric) if run_id else None


@main_process_only
def set_tag(key: str, value: str) -> None:
    mlflow.set_tag(key, mask(value))


_PROGRESS_BAR = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"


@contextlib.contextmanager
def _no_progress_bar() -> Iterator[None]:
    """One progress bar per small downloaded file is noise in a report; a value the user set is kept."""
    if _PROGRESS_BAR in os.environ:
        yield
        return
    os.environ[_PROGRESS_BAR] = "false"
    try:
        yield
    finally:
        os.environ.pop(_PROGRESS_BAR, None)


def download_run_file(run_id: str, path: str) -> str:
    """A local copy of one artifact of a run (e.g. eval/predictions_test.csv)."""
    import mlflow.artifacts

    with _no_progress_bar():
        return mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path)


def artifact_names(run_id: str, folder: str) -> set[str]:
    """File names directly in a run's artifact folder."""
    return {a.path.rsplit("/", 1)[-1] for a in mlflow.MlflowClient().list_artifacts(run_id, folder)}


def finished_training_runs(experiment: str | None = None, parent_run_id: str | None = None,
                           run_ids: list[str] | None = None) -> list[Any]:
    """Finished training runs (mlflow Run objects) of an experiment, of a parent run, or by id."""
    configure(None)
    client = mlflow.MlflowClient()
    if run_ids:
        return [client.get_run(r) for r in run_ids]
    if parent_run_id:
        exp_ids = [client.get_run(parent_run_id).info.experiment_id]
        filt = f"tags.mlflow.parentRunId = '{parent_run_id}'"
    elif experiment:
        found = client.get_experiment_by_name(experiment)
        if found is None:
            raise ValueError(f"no MLflow experiment named {experiment!r} in {mlflow.get_tracking_uri()}")
        exp_ids, filt = [found.experiment_id], ""
    else:
        raise ValueError("name an experiment, a parent run or run ids to compare")
    runs = client.search_runs(exp_ids, filter_string=filt, max_results=5000)
    return [r for r in runs if r.info.status == "FINISHED" and r.data.tags.get("run_type") != "experiment"
            and "test_macro_f1" in r.data.metrics]


def download_model(uri: str) -> str:
    """A local copy of the model files behind an MLflow URI (runs:/..., models:/NAME/7, ...)."""
    import mlflow.artifacts

    return mlflow.artifacts.download_artifacts(artifact_uri=uri)


def model_version(uri: str) -> str:
    """A model reference as a concrete version where the registry can say (models:/NAME/latest -> NAME/7),
    so an annotation batch records which model suggested it; other references are returned as given."""
    if not uri.startswith("models:/"):
        return uri
    name, _, ref = uri[len("models:/"):].partition("/")
    if "@" in name and not ref:  # models:/NAME@ALIAS
        name, ref = name.split("@", 1)
    if not name or not ref:
        return uri
    configure(None)
    try:
        if ref == "latest":
            return resolve_model_uri(uri)[len("models:/"):]
        if ref.isdigit():
            return f"{name}/{ref}"
        return f"{name}/{mlflow.MlflowClient().get_model_version_by_alias(name, ref).version}"
    except mlflow.exceptions.MlflowException:
        return uri


# ---------------------------------------------------------------- what the MLflow UI shows first
# MLflow 3.17's UI chooses between its GenAI pages and the training-runs view from the `workflowType` URL
# parameter (else the browser's saved choice, GenAI in a fresh profile), not from the experiment's
# `mlflow.experimentKind` tag: the links `stance ui` prints carry `workflowType=machine_learning` (ui.py).
# The runs table shows the columns of a saved view, an experiment tag `mlflow.sharedViewState.<key>` opened
# with `?viewStateShareKey=<key>`; the runs page's chart view leads with `mlflow.experiment.primaryMetric.name`.
RUNS_VIEW_KEY = "stance-headline"
_VIEW_TAG = "mlflow.sharedViewState."
_PRIMARY_METRIC_TAG = "mlflow.experiment.primaryMetric.name"
_NOTE_TAG = "mlflow.note.content"  # the run's Description in the UI
# After the metrics, the registered model (the wide Dataset column is left out: each Description names the data).
_VIEW_COLUMNS = ("attributes.`Models`",)


_NOTE_MAX = 8000  # MLflow's limit on a run tag's value


@main_process_only
def set_description(markdown_text: str) -> None:
    mlflow.set_tag(_NOTE_TAG, mask(markdown_text)[:_NOTE_MAX])  # data paths may be URIs with passwords


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
    runs = [r for r in client.search_runs(ids, "attributes.status = 'FINISHED'", max_results=1000,
                                          order_by=["attributes.start_time DESC"])
            if "model_kind" in r.data.tags and "run_type" not in r.data.tags]
    if not runs:
        return TrainingRuns(ids[0], experiment, {}) if experiment is not None else None
    exp_id = runs[0].info.experiment_id
    latest: dict[str, Any] = {}
    for r in runs:
        if r.info.experiment_id == exp_id:
            latest.setdefault(r.data.tags["model_kind"], r)
    return TrainingRuns(exp_id, client.get_experiment(exp_id).name, latest)
