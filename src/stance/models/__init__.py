"""Model kinds by name. Kinds are imported lazily so TF-IDF use never pays for importing torch."""
from __future__ import annotations

import importlib
import json
from pathlib import Path

from .base import StanceModel

META_FILE = "stance_model.json"
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
    """Load a directory written by StanceModel.save(), whatever its kind.

    `inference` (fp32 | bf16 | int8 | auto) picks the transformer's prediction path; TF-IDF has one path.
    """
    path = Path(path)
    meta_path = path / META_FILE
    if not meta_path.is_file():
        raise FileNotFoundError(f"{path} is not a saved stance model (no {META_FILE})")
    kind = json.loads(meta_path.read_text())["kind"]
    if kind == "transformer":
        return model_class(kind).load(path, inference=inference)  # type: ignore[call-arg]
    if inference not in (None, "auto"):
        raise ValueError(f"inference={inference!r} applies to transformer models; {path} is a {kind} model")
    return model_class(kind).load(path)


__all__ = ["StanceModel", "build", "load", "model_class", "META_FILE"]
