"""A model reference (a local folder, `models:/NAME/latest`, `models:/NAME@ALIAS`, `runs:/ID/model`, any MLflow URI)
to a loaded StanceModel; MLflow is reached through stance.tracking, and only for a URI."""
from __future__ import annotations

import functools
import os
from pathlib import Path

from .. import models
from ..models.base import StanceModel
from ..runtime.masking import mask
from . import sqlite_registry

MLFLOW_MODEL_FILE = "MLmodel"
CHAMPION = "models:/stance@champion"  # registration.CHAMPION_NAME @ CHAMPION_ALIAS
DEFAULT_MODEL_ENV = "STANCE_MODEL"


def default_model() -> str:
    """The model used when none is named: $STANCE_MODEL, else the champion."""
    return os.environ.get(DEFAULT_MODEL_ENV) or CHAMPION
_SEARCH_DEPTH, _SEARCH_FOLDERS, _SHOWN = 6, 5_000, 10  # how far below a wrong --model path to look for models


def _local_model_dir(path: Path) -> Path:
    """A saved StanceModel folder, or an MLflow model folder that holds exactly one; anything else (a parent
    folder, `.`, `/`) is refused with the folders below it that look like models, never picked at random."""
    if (path / models.META_FILE).is_file():
        return path
    if (path / MLFLOW_MODEL_FILE).is_file():
        found = [p.parent for p in path.rglob(models.META_FILE)]
        inside = [p for p in found if not any(q in p.parents for q in found)]  # a per-target model's parts are not models
        if len(inside) == 1:
            return inside[0]
        if len(inside) > 1:
            raise FileNotFoundError(f"MLflow model {path} holds {len(inside)} stance models: "
                                    f"{', '.join(str(p) for p in sorted(inside))}; give one of them")
        raise FileNotFoundError(f"MLflow model {path} holds no stance model (no {models.META_FILE} in any of its "
                                f"folders): its model files are missing, or it was not logged by stance")
    if path.is_file():
        raise FileNotFoundError(f"{path} is a file; a model is a folder (the one holding {models.META_FILE})")
    found = _models_below(path)
    listed = ", ".join(str(p) for p in found[:_SHOWN]) + (f" and {len(found) - _SHOWN} more" if len(found) > _SHOWN
                                                          else "")
    raise FileNotFoundError(f"{path} is not a model folder (no {models.META_FILE} or {MLFLOW_MODEL_FILE} in it); "
                            + (f"folders below that look like models: {listed}" if found
                               else "no folder below it looks like a model"))


def _models_below(path: Path) -> list[Path]:
    """Model folders (stance or MLflow) below `path`, nearest first; bounded, so `--model /` answers at once."""
    found = []
    for seen, (root, dirs, files) in enumerate(os.walk(path)):
        if seen == _SEARCH_FOLDERS:
            break
        if models.META_FILE in files or MLFLOW_MODEL_FILE in files:
            found.append(Path(root))
            dirs[:] = []  # a model's own subfolders are part of it
        elif len(Path(root).relative_to(path).parts) >= _SEARCH_DEPTH:
            dirs[:] = []
        else:
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    return sorted(found, key=lambda p: (len(p.parts), str(p)))


def load_model(model: str, inference: str | None = None) -> StanceModel:
    """Load from `models:/name/version|latest`, `models:/name@alias`, `runs:/<id>/model`, any MLflow URI, or a
    local directory.

    `inference` (transformer only): fp32 | bf16 | int8 | onnx | onnx-int8, or None/auto for the paths saved with
    the model.
    `latest` and aliases are looked up in the registry on every call (one cheap query), so a model registered
    after the first call is used at once; loaded models are cached by the version they resolved to.
    """
    if Path(model).exists():
        return _load(model, inference, None)
    if "://" not in model and ":/" not in model:
        raise FileNotFoundError(f"model {model!r} is neither an existing path nor an MLflow URI "
                                f"(models:/NAME/latest, runs:/RUN_ID/model)")
    if (found := sqlite_registry.lookup(model)) is not None:  # a local sqlite store: no MLflow import
        return _load(str(_registered_dir(model, *found)), inference, None)
    with models.gc_paused():  # importing MLflow is most of a cold start too
        from .. import tracking

        store = tracking.configure(None)
        try:
            resolved = tracking.resolve_model_uri(model)
        except Exception as e:  # MLflow's error: an unknown name or alias
            if model != CHAMPION:
                raise
            raise FileNotFoundError(f"no champion model in {mask(store)} yet ({e}); make one with "
                                    f"`make demo` or `stance promote`, or name a model with --model") from None
        return _load(resolved, inference, store)


def local_dir(model: str) -> Path:
    """The saved model folder a reference names: the folder itself, or an MLflow model downloaded to the cache."""
    if Path(model).exists():
        return _local_model_dir(Path(model))
    if "://" not in model and ":/" not in model:
        raise FileNotFoundError(f"model {model!r} is neither an existing path nor an MLflow URI "
                                f"(models:/NAME/latest, runs:/RUN_ID/model)")
    if (found := sqlite_registry.lookup(model)) is not None:
        return _registered_dir(model, *found)
    from .. import tracking

    tracking.configure(None)
    resolved = tracking.resolve_model_uri(model)
    return _files_of(resolved, _download(resolved))


def _files_of(uri: str, downloaded: Path) -> Path:
    """The stance model in what MLflow returned for `uri`: no model there means its files are missing."""
    try:
        return _local_model_dir(downloaded)
    except FileNotFoundError as e:
        raise FileNotFoundError(f"{uri}: the model files are missing: {e}") from None


def _registered_dir(model: str, version: str, folder: str) -> Path:
    """The stance model folder of a registered version whose files are in a local folder; a folder that is gone
    or holds no model is said to be missing, not taken for a wrong --model path."""
    missing = f"{model}: the model files of registered version {version} are missing"
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"{missing}: {folder} does not exist (deleted or moved); restore it, or train and "
                                f"register the model again") from None
    try:
        return _local_model_dir(Path(folder))
    except FileNotFoundError as e:
        raise FileNotFoundError(f"{missing}: {e}") from None


def _download(uri: str) -> Path:
    """A local copy of an MLflow model; MLflow's bare "No such artifact" for deleted files is said plainly."""
    from ..tracking import download_model

    try:
        return Path(download_model(uri))
    except Exception as e:  # MLflow's errors: MlflowException, OSError from an artifact repository
        raise FileNotFoundError(f"{uri}: the model files cannot be read from the artifact store ({e}); they are "
                                f"missing (deleted or moved) or the store is unreachable") from None


@functools.lru_cache(maxsize=8)
def _load(model: str, inference: str | None, store: str | None) -> StanceModel:
    """`store`: the tracking URI an MLflow reference was resolved in (None for a local folder); part of the
    cache key, because models:/NAME/1 in one store is another model than in the next."""
    if store is None:
        return models.load(_local_model_dir(Path(model)), inference)
    return models.load(_files_of(model, _download(model)), inference)


load_model.cache_clear = _load.cache_clear  # type: ignore[attr-defined]  # for tests and notebooks
