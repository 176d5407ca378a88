"""A model folder's metadata file, with a SHA-256 of every other file in the folder, checked at load.

A truncated download, a disk error or a hand-edited weight file then fails loudly, naming the file,
instead of loading and predicting garbage. Folders saved before checksums were recorded load unchecked.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

META_FILE = "stance_model.json"
CHECKSUMS = "sha256"  # metadata key: {relative file name: hex digest}
# "MAJOR.MINOR" of the folder layout. A reader loads any minor of its major (minors only add) and refuses a newer
# major, which an older stance would misread. Folders written before the field existed are 1.x; 2.0 is the
# TF-IDF model as arrays and term lists instead of a skops file.
FORMAT_KEY, FORMAT_VERSION = "format_version", "2.0"


class CorruptModelError(ValueError):
    """A model file is unreadable or differs from what was saved; the message names the file."""


def sha256(file: Path) -> str:
    with open(file, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _model_files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file() and p.relative_to(path).as_posix() != META_FILE)


def write_meta(path: Path, meta: dict[str, Any]) -> None:
    """Write the metadata last, once every other file of the model is in the folder."""
    path = Path(path)
    sums = {p.relative_to(path).as_posix(): sha256(p) for p in _model_files(path)}
    (path / META_FILE).write_text(json.dumps({FORMAT_KEY: FORMAT_VERSION, **meta, CHECKSUMS: sums}, indent=2))


def read_meta(path: Path) -> dict[str, Any]:
    file = Path(path) / META_FILE
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CorruptModelError(f"{file} is corrupt: not valid JSON ({e})") from None
    if not isinstance(meta, dict) or "kind" not in meta:
        raise CorruptModelError(f"{file} is corrupt: expected a JSON object with a 'kind' field")
    _check_format(file, meta.get(FORMAT_KEY, "1.0"))
    if not isinstance(meta["kind"], str):
        raise CorruptModelError(f"{file}: field 'kind' must be a model kind's name, not {meta['kind']!r}")
    labels = meta.get("labels")
    if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) and x for x in labels) \
            or len(set(labels)) != len(labels):
        given = "is missing" if labels is None else f"is {json.dumps(labels)[:80]}"
        raise CorruptModelError(f"{file}: field 'labels' {given}; it must list the model's labels (at least two "
                                f"distinct names, in the order of its scores)")
    return meta


class NewerFormatError(CorruptModelError):
    """The folder was written by a newer stance whose layout this one would misread."""


def _check_format(file: Path, version: Any) -> None:
    major, _, minor = str(version).partition(".")
    if not (isinstance(version, str) and major.isdigit() and minor.isdigit()):
        raise CorruptModelError(f"{file}: field {FORMAT_KEY!r} is {version!r}; expected \"MAJOR.MINOR\"")
    if int(major) > int(FORMAT_VERSION.split(".")[0]):
        raise NewerFormatError(f"{file}: the model folder has format {version}, written by a newer stance; this "
                               f"stance reads format {FORMAT_VERSION.split('.')[0]}.x and older: upgrade stance "
                               f"(pip install -U) to load it")


def verify(path: Path, meta: dict[str, Any]) -> None:
    """Every file recorded at save time is present with the same SHA-256."""
    for name, digest in (meta.get(CHECKSUMS) or {}).items():
        file = Path(path) / name
        if not file.is_file():
            raise CorruptModelError(f"{file} is missing: the model was saved with it")
        if sha256(file) != digest:
            raise CorruptModelError(f"{file} is corrupt: its SHA-256 differs from the one recorded when the model "
                                    f"was saved (truncated or modified); retrain or download it again")
