"""Everything that talks to MLflow, in one place: store, runs, params, datasets, metrics, artifacts, models."""
from __future__ import annotations

import contextlib
import os
import subprocess
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from typing import Any, Iterator

import mlflow
import pandas as pd
import yaml

from .config import Config, flatten
from .data import StanceData

DEFAULT_URI = "sqlite:///mlflow.db"
PARAM_MAX = 500  # MLflow's value limit is larger; long values (lists of paths) stay readable in the UI
# Parameter keys never logged, in case a config ever carries credentials.
_SECRET_WORDS = ("password", "token", "secret", "api_key", "apikey", "credential")


class TrackingError(RuntimeError):
    """The tracking store cannot be used (unreachable server, unwritable artifact root)."""


def resolve_uri(uri: str | None) -> str:
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI


def configure(uri: str | None) -> str:
    """Point MLflow at the store; an http(s) server must answer within seconds, not minutes of retries."""
    uri = resolve_uri(uri)
    if uri.startswith(("http://", "https://")):
        try:
            urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=5)
        except (urllib.error.URLError, OSError) as e:
            raise TrackingError(f"MLflow tracking server {uri} is unreachable ({getattr(e, 'reason', e)}); "
                                f"start it or set MLFLOW_TRACKING_URI") from None
    mlflow.set_tracking_uri(uri)
    return uri


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
    """An MLflow run that always ends with a true status: FINISHED, FAILED, or KILLED on Ctrl-C/SIGTERM."""
    configure(uri)
    exp = mlflow.set_experiment(experiment)
    if "mlflow.experimentKind" not in exp.tags:
        # MLflow 3's UI opens GenAI pages unless an experiment says it holds model training runs.
        mlflow.set_experiment_tag("mlflow.experimentKind", "custom_model_development")
    commit = git_commit()
    tags = {"git_commit": commit, "mlflow.source.git.commit": commit, **(tags or {})}
    active = mlflow.start_run(run_id=run_id, run_name=None if run_id else run_name, tags=tags,
                              parent_run_id=parent_run_id, nested=parent_run_id is not None)
    try:
        yield active
    except (KeyboardInterrupt, SystemExit):
        mlflow.end_run(status="KILLED")
        raise
    except BaseException:
        mlflow.end_run(status="FAILED")
        raise
    else:
        mlflow.end_run(status="FINISHED")


def log_config(cfg: Config) -> None:
    tree = cfg.model_dump(mode="json")
    mlflow.log_text(yaml.safe_dump(tree, sort_keys=False), "config.yaml")
    log_params(flatten(tree))


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
        mlflow.log_text("\n".join(data.notes) + "\n", "data_notes.txt")


def log_text(text: str, name: str) -> None:
    mlflow.log_text(text, name)


def log_metrics(metrics: dict[str, float], step: int | None = None) -> None:
    mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=step)


def log_params(params: dict[str, Any]) -> None:
    """Every param goes through here: values cut to PARAM_MAX, credential-like keys never logged."""
    mlflow.log_params({k: str(v)[:PARAM_MAX] for k, v in params.items()
                       if not any(w in k.lower() for w in _SECRET_WORDS)})


def log_artifact(path: Path, folder: str | None = None) -> None:
    mlflow.log_artifact(str(path), artifact_path=folder)


def log_tables(tables: dict[str, pd.DataFrame], folder: str, run_id: str | None = None) -> None:
    """Tables the MLflow UI shows (Artifacts, and the evaluation view): <folder>/<name>.json, to the active
    run or to `run_id`."""
    for name, df in tables.items():
        # JSON has no NaN: empty cells become null.
        mlflow.log_table(df.astype(object).where(df.notna(), None), artifact_file=f"{folder}/{name}.json",
                         run_id=run_id)


def log_evaluation(ev: Any, folder: str = "eval") -> None:
    """An evaluation's files (plots, CSVs, reports) and its tables."""
    for f in ev.files:
        log_artifact(f, folder)
    log_tables(ev.tables, folder)


def _pip_requirements(kind: str) -> list[str]:
    """Explicit pins: MLflow's inference is slow here and lists test tools and local +cpu tags."""
    from importlib.metadata import version

    def pin(dist: str) -> str:
        return f"{dist}=={version(dist).split('+')[0]}"

    reqs = [pin(d) for d in ("mlflow", "pandas", "numpy", "scikit-learn", "skops", "pydantic", "pyyaml")]
    if kind == "transformer":
        reqs += [pin(d) for d in ("torch", "transformers", "safetensors", "tokenizers")]
    return reqs


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

