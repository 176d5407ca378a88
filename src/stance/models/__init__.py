"""Model kinds by name. Kinds are imported lazily so TF-IDF use never pays for importing torch."""
from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .base import StanceModel
from .integrity import META_FILE, CorruptModelError, read_meta, verify

if TYPE_CHECKING:
    from .calibrator import Calibrator
    from ..config import Kind

# Files that torch/pickle would unpickle: loading them can run arbitrary code.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib")
ALLOW_PICKLE_ENV = "STANCE_ALLOW_PICKLE"


class UnsafeModelError(RuntimeError):
    """A model directory would need pickle (or code we do not trust) to load."""


def refuse_pickles(path: Path) -> None:
    """Our models are skops + safetensors only; a pickle in the folder is refused unless explicitly allowed."""
    found = sorted(p.name for p in Path(path).iterdir() if p.suffix in PICKLE_SUFFIXES)
    if found and os.environ.get(ALLOW_PICKLE_ENV) != "1":
        raise UnsafeModelError(f"{path} holds pickle-based files {found}; refusing to load it "
                               f"(set {ALLOW_PICKLE_ENV}=1 only for files you trust)")
@contextlib.contextmanager
def gc_paused():
    """Loading builds hundreds of thousands of long-lived objects (imports, a skops tree) and no garbage: the cyclic
    collector's passes over them cost ~20% of a one-off `stance predict` (measured 5.4 -> 4.4 s). Restored after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def kind(name: str) -> Kind:
    """The registry entry (stance.config.KINDS) of a model kind."""
    from ..config import KINDS  # pydantic: paid only once a model is built or loaded

    if name not in KINDS:
        raise ValueError(f"unknown model kind {name!r}; known kinds: {', '.join(KINDS)}")
    return KINDS[name]


def model_class(name: str) -> type[StanceModel]:
    module, cls = kind(name).model.split(":")
    return getattr(importlib.import_module(module), cls)


def check_inference(name: str, inference: str | None, what: str, allow_auto: bool = True) -> None:
    """Only kinds with several prediction paths take an inference= option; at load time auto (like None) means
    "as saved" and suits any kind, while switching a loaded model's path (allow_auto=False) needs the paths."""
    if inference not in (None, "auto" if allow_auto else None) and not kind(name).prediction_paths:
        from ..config import KINDS

        with_paths = " and ".join(k for k, spec in KINDS.items() if spec.prediction_paths)
        raise ValueError(f"inference={inference!r} applies to {with_paths} models; {what} is a {name} model")


def build(cfg, labels: list[str], seed: int) -> StanceModel:
    if cfg.per_target:
        return _per_target_class()(cfg, labels, seed)
    return model_class(cfg.kind)(cfg, labels, seed)


def _per_target_class() -> type[StanceModel]:
    from .per_target import PerTargetModel

    return PerTargetModel


def model_config(data: dict):
    """A saved model's `config` back as the typed config of its kind."""
    from pydantic import TypeAdapter

    from ..config import ModelConfig

    return TypeAdapter(ModelConfig).validate_python(data)


def load(path: str | Path, inference: str | None = None) -> StanceModel:
    """Load a directory written by StanceModel.save(), whatever its kind, with its calibrator when it has one.

    `inference` (fp32 | bf16 | int8 | onnx | onnx-int8 | auto) picks the transformer's prediction path; TF-IDF has one.
    """
    with gc_paused():
        return _load(Path(path), inference)


def _load(path: Path, inference: str | None) -> StanceModel:
    meta_path = path / META_FILE
    if not meta_path.is_file():
        raise FileNotFoundError(f"{path} is not a saved stance model (no {META_FILE})")
    refuse_pickles(path)
    meta = read_meta(path)
    verify(path, meta)
    _check_kind_and_config(path / META_FILE, meta)
    check_inference(meta["kind"], inference, str(path))
    # A per-target model wraps classifiers of its kind (like the calibrator, a wrapper rather than a kind).
    model_cls = _per_target_class() if meta.get("per_target") else model_class(meta["kind"])
    model = model_cls.load(path, inference=inference)
    from .calibrator import CALIBRATION_FILE  # numpy: imported once a model is being loaded anyway

    if (path / CALIBRATION_FILE).is_file():
        from .calibrated import CalibratedModel

        return CalibratedModel(model, _load_calibrator(path / CALIBRATION_FILE))
    return model


def _check_kind_and_config(file: Path, meta: dict) -> None:
    """One line naming the file and the field, instead of a KeyError or pydantic's multi-line report."""
    from pydantic import ValidationError

    try:
        kind(meta["kind"])
    except ValueError as e:
        raise CorruptModelError(f"{file}: field 'kind': {e}") from None
    if not isinstance(meta.get("config"), dict):
        raise CorruptModelError(f"{file}: field 'config' is missing or not an object: the model's settings")
    if meta["config"].get("kind") != meta["kind"]:
        raise CorruptModelError(f"{file}: field 'config.kind' is {meta['config'].get('kind')!r} but field 'kind' is "
                                f"{meta['kind']!r}: the folder was edited or put together from two models")
    try:
        model_config(meta["config"])
    except ValidationError as e:
        first = e.errors()[0]
        loc = first["loc"][1:] if first["loc"][:1] == (meta["kind"],) else first["loc"]  # pydantic's union tag
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        raise CorruptModelError(f"{file}: field {'.'.join(map(str, ('config', *loc)))!r}: {first['msg']}{more}") \
            from None


def _load_calibrator(file: Path) -> Calibrator:
    from .calibrator import Calibrator

    try:
        return Calibrator.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as e:
        raise CorruptModelError(f"{file} is corrupt: not a calibration written by stance ({e})") from None


__all__ = ["StanceModel", "UnsafeModelError", "CorruptModelError", "build", "check_inference", "kind", "load",
           "model_class", "refuse_pickles", "META_FILE"]
