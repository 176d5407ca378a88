"""MLflow runs: a run that always ends with a true status, and everything logged to it (config, params, datasets,
metrics, texts, artifacts, tables, evaluations, tags), plus reading runs back (their files, finished training runs).
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Iterator

import mlflow
import yaml

from ..config import Config, flatten
from ..runtime import distributed
from ..runtime.distributed import main_process_only
from ..runtime.masking import is_secret_key, mask, mask_tree
from .store import TrackingError, configure

if TYPE_CHECKING:  # annotations only: resolving a model URI for `stance predict` needs neither
    import pandas as pd

    from ..data import StanceData
    from ..evaluation.scoring import Evaluation

PARAM_MAX = 500  # MLflow's value limit is larger; long values (lists of paths) stay readable in the UI


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
def writing_artifacts(run_id: str | None = None) -> Iterator[None]:
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
    set_tag("stance.config_hash", config_hash(tree))


def config_hash(tree: dict) -> str:
    """The resolved config minus the seed and where the run is kept: runs that share it differ only by seed
    (`stance compare` groups them)."""
    import hashlib
    import json

    kept = {k: v for k, v in tree.items() if k not in ("seed", "tracking", "output_dir")}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()[:16]


def check_resumable(run_id: str, cfg: Config) -> None:
    """`--resume RUN_ID` continues an unfinished run of the same config; anything else is refused up front."""
    from mlflow.exceptions import MlflowException

    from ..config import ConfigError

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
    with writing_artifacts():
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
    with writing_artifacts():
        mlflow.log_artifact(str(path), artifact_path=folder)


@main_process_only
def log_artifacts_to(run_id: str, files: list[Path], folder: str) -> None:
    """Files into <folder>/ of a run that need not be the active one (`stance compare --parent`)."""
    client = mlflow.MlflowClient()
    with writing_artifacts(run_id):
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


def experiment_name(experiment_id: str) -> str:
    return mlflow.MlflowClient().get_experiment(experiment_id).name


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
