"""The MLflow model registry: logging a model (as a pyfunc, registered under a name), what `models:/NAME/latest`
and `models:/NAME@ALIAS` point to now, downloading a model, and whether a run's model may become the newest
version (`tracking.register_if`, `refusal`: pure rule logic on the run's metrics and the latest version's).
"""
from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import mlflow

from ..config import RegisterRule
from ..errors import DataError
from ..runtime.console import verbose
from ..runtime.distributed import main_process_only
from ..runtime.masking import mask
from .runs import _no_progress_bar, writing_artifacts
from .store import configure

if TYPE_CHECKING:
    import pandas as pd

PACKAGE = Path(__file__).resolve().parents[1]  # src/stance: a copy is logged with every model (models from code)


def refusal(rule: RegisterRule | None, metrics: dict[str, float],
            latest: tuple[str, float | None] | None) -> str | None:
    """Why the model must not be registered, or None when it may. `latest`: (version, its value of the rule's
    metric, None when that run did not log it), or None when nothing is registered yet."""
    if rule is None:
        return None
    value = metrics.get(rule.metric)
    if value is None:
        return f"the run logged no metric {rule.metric!r} (tracking.register_if.metric)"
    if math.isnan(value):
        return f"{rule.metric} is NaN"
    if rule.min is not None and value < rule.min:
        return f"{rule.metric} {value:.4f} is below the minimum {rule.min:g}"
    if rule.max_drop is not None and latest is not None and latest[1] is not None:
        version, before = latest
        if value < before - rule.max_drop:
            return (f"{rule.metric} {value:.4f} is {before - value:.4f} below version {version}'s {before:.4f} "
                    f"(max_drop {rule.max_drop:g})")
    return None


def _pip_requirements(kind: str) -> list[str]:
    """Explicit pins: MLflow's inference is slow here and lists test tools and local +cpu tags."""
    from importlib.metadata import version

    def pin(dist: str) -> str:
        return f"{dist}=={version(dist).split('+')[0]}"

    from ..config import KINDS

    common = ("mlflow", "pandas", "numpy", "scikit-learn", "skops", "pydantic", "pyyaml")
    return [pin(d) for d in (*common, *KINDS[kind].requirements)]


@main_process_only
def log_model(model_dir: Path, kind: str, registered_name: str | None, example: pd.DataFrame,
              example_output: pd.DataFrame, *, entry: Path, artifact: str, code_dir: str) -> Any:
    """Log the saved model as a pyfunc (models from code, no pickle) and register it. `entry`: the file MLflow runs
    to build the pyfunc (stance.prediction.pyfunc.ENTRY_FILE), which finds the model folder under `artifact`.

    A copy of the stance package goes with the model as the artifact folder `code_dir`, not as MLflow's code_paths:
    MLflow puts code_paths first on sys.path, so the first model loaded in a process would shadow the installed
    stance, and a later model would import from that copy after MLflow deleted it. The entry file uses the copy
    only where no stance can be imported (prediction/pyfunc_entry.py)."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="stance-code-") as tmp:
        code = Path(tmp) / code_dir
        shutil.copytree(PACKAGE, code / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        return _log_pyfunc(kind, registered_name, example, example_output, entry,
                           {artifact: str(model_dir), code_dir: str(code)})


@contextlib.contextmanager
def _registry_chatter() -> Iterator[None]:
    """MLflow prints "Successfully registered model" and "Created version" on every registration; stance names the
    version it made itself (`model: models:/NAME/N`). Shown with --verbose."""
    if verbose():
        yield
        return
    with contextlib.redirect_stderr(io.StringIO()):
        yield


def _log_pyfunc(kind: str, registered_name: str | None, example: pd.DataFrame,
                example_output: pd.DataFrame, entry: Path, artifacts: dict[str, str]) -> Any:
    from mlflow.models import ModelSignature
    from mlflow.types.schema import ColSpec, Schema

    signature = ModelSignature(
        inputs=Schema([ColSpec("string", "text"), ColSpec("string", "target", required=False)]),
        outputs=Schema([ColSpec("string", "label")] + [ColSpec("double", c) for c in example_output.columns[1:]]),
    )
    with writing_artifacts(), _registry_chatter():
        return mlflow.pyfunc.log_model(
            name="model",
            python_model=str(entry),
            artifacts=artifacts,
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
        try:
            return f"models:/{name}/{client.get_model_version_by_alias(name, alias).version}"
        except mlflow.exceptions.MlflowException:
            _check_registered(client, name, uri)
            raise
    if ref == "latest":
        quoted = name.replace("'", "\\'")
        found = client.search_model_versions(f"name='{quoted}'", max_results=1, order_by=["version_number DESC"])
        if not found:
            _check_registered(client, name, uri)
            raise mlflow.exceptions.MlflowException(f"registered model {name!r} has no versions ({uri})")
        return f"models:/{name}/{found[0].version}"
    return uri


def _check_registered(client: Any, name: str, uri: str) -> None:
    """A misspelt name is named as such, with the names there are (a DataError: exit 2, like a missing file)."""
    names = sorted(m.name for m in client.search_registered_models())
    if name not in names:
        raise DataError(f"{uri}: no such model {name!r}; registered: {', '.join(names) or 'none yet'}")


def latest_version_metric(name: str, metric: str) -> tuple[str, float | None] | None:
    """(version, value of `metric` in the run that produced it) for the registered model's latest version, or None
    when nothing is registered under `name` yet."""
    try:
        version = resolve_model_uri(f"models:/{name}/latest").rsplit("/", 1)[1]
    except (mlflow.exceptions.MlflowException, DataError):
        return None  # no such registered model, or no versions
    client = mlflow.MlflowClient()
    run_id = client.get_model_version(name, version).run_id
    return version, client.get_run(run_id).data.metrics.get(metric) if run_id else None


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


# ---------------------------------------------------------------- the champion
# What `stance.predict(text)` and `stance predict TEXT` use when no model is named: models:/stance@champion.
CHAMPION_NAME, CHAMPION_ALIAS = "stance", "champion"
CHAMPION_METRIC = "dev_macro_f1"
BEHAVIOUR_METRIC, MIN_BEHAVIOUR = "behaviour_pass_rate", 0.90


def choose_champion(candidates: dict[str, dict[str, float]]) -> tuple[str | None, str]:
    """(the winner's name or None, a markdown account of the rule and every candidate's numbers). Pure.

    The rule: the highest dev macro-F1 among candidates that pass at least 90% of the behavioural suite (a model
    that fails more than 10% of the obvious cases is never the default, whatever its dev score). A candidate whose
    run scored no suite is not eligible either: the obvious cases were never checked."""
    rows, eligible = [], {}
    for name, m in candidates.items():
        dev, beh = m.get(CHAMPION_METRIC), m.get(BEHAVIOUR_METRIC)
        why = ("no dev macro-F1" if dev is None or math.isnan(dev) else
               "no behavioural suite score" if beh is None or math.isnan(beh) else
               f"behavioural suite {beh:.3f} < {MIN_BEHAVIOUR:.2f}" if beh < MIN_BEHAVIOUR else "")
        if not why:
            eligible[name] = dev
        rows.append(f"| {name} | {_num(dev)} | {_num(beh)} | {why or 'eligible'} |")
    winner = max(eligible, key=eligible.__getitem__) if eligible else None
    head = (f"**Champion: {winner}**, the highest dev macro-F1 among models that pass at least "
            f"{MIN_BEHAVIOUR:.0%} of the behavioural suite." if winner else
            f"**No champion**: no model passes at least {MIN_BEHAVIOUR:.0%} of the behavioural suite with a dev "
            f"macro-F1 logged.")
    table = ["| model | dev macro-F1 | behavioural suite | |", "|---|---|---|---|", *rows]
    return winner, "\n".join([head, "", *table])


def _num(x: float | None) -> str:
    return "-" if x is None or math.isnan(x) else f"{x:.3f}"


def promote(model_uri: str, name: str, alias: str, description: str, tags: dict[str, str]) -> str:
    """Register `model_uri` (a logged model) as a new version of `name`, describe and tag it, and point `alias` at
    it; returns `models:/NAME/VERSION`. A model that already is a version of `name` is not registered twice."""
    client = mlflow.MlflowClient()
    quoted = name.replace("'", "\\'")
    same = [v for v in client.search_model_versions(f"name='{quoted}'") if v.source == model_uri]
    with _no_progress_bar(), _registry_chatter():
        version = same[0].version if same else mlflow.register_model(model_uri, name).version
    client.update_model_version(name, version, description=mask(description))
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, mask(value))
    client.set_registered_model_alias(name, alias, version)
    return f"models:/{name}/{version}"


DEMO_ALIAS = "demo"  # models:/stance-<kind>@demo: what `make demo` trained; ad-hoc training never moves it


def set_alias(ref: str, alias: str) -> None:
    """Point `alias` of the registered model at the version `ref` (`models:/NAME/N`)."""
    name, _, version = ref[len("models:/"):].partition("/")
    mlflow.MlflowClient().set_registered_model_alias(name, alias, version)


@main_process_only
def describe_version(ref: str, description: str, tags: dict[str, str], alias: str | None = None) -> None:
    """Give a registered version (`models:/NAME/N`) its description and tags, and point `alias` at it."""
    name, _, version = ref[len("models:/"):].partition("/")
    client = mlflow.MlflowClient()
    client.update_model_version(name, version, description=mask(description))
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, mask(value))
    if alias:
        client.set_registered_model_alias(name, alias, version)


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
