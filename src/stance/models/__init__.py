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
    from ..calibration import Calibrator
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


_KINDS = {"tfidf": ("stance.models.tfidf", "TfidfModel"),
          "transformer": ("stance.models.transformer", "TransformerModel")}


def model_class(kind: str) -> type[StanceModel]:
    if kind not in _KINDS:
        raise ValueError(f"unknown model kind {kind!r}; known kinds: {', '.join(_KINDS)}")
    module, name = _KINDS[kind]
    return getattr(importlib.import_module(module), name)


def build(cfg, labels: list[str], seed: int) -> StanceModel:
    return model_class(cfg.kind)(cfg, labels, seed)


def load(path: str | Path, inference: str | None = None) -> StanceModel:
    """Load a directory written by StanceModel.save(), whatever its kind, with its calibrator when it has one.

    `inference` (fp32 | bf16 | int8 | auto) picks the transformer's prediction path; TF-IDF has one path.
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
    kind = meta["kind"]
    if kind == "transformer":
        model = model_class(kind).load(path, inference=inference)  # type: ignore[call-arg]
    elif inference not in (None, "auto"):
        raise ValueError(f"inference={inference!r} applies to transformer models; {path} is a {kind} model")
    else:
        model = model_class(kind).load(path)
    from ..calibration import CALIBRATION_FILE  # numpy: imported once a model is being loaded anyway

    if (path / CALIBRATION_FILE).is_file():
        from .calibrated import CalibratedModel

        return CalibratedModel(model, _load_calibrator(path / CALIBRATION_FILE))
    return model


def _load_calibrator(file: Path) -> Calibrator:
    from ..calibration import Calibrator

    try:
        return Calibrator.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as e:
        raise CorruptModelError(f"{file} is corrupt: not a calibration written by stance ({e})") from None


__all__ = ["StanceModel", "UnsafeModelError", "CorruptModelError", "build", "load", "model_class", "refuse_pickles", "META_FILE"]
