"""Hostile input, round two (issue 29, part B): secrets, errors that were tracebacks or exit 0, inputs that should
work, long statements and spreadsheets."""
import csv
import json
import os
import socket
import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT, TARGET, save_tiny_tfidf, shrunk_config, tiny_rows, write_jsonl
from stance.cli import main
from stance.config import ConfigError, DataConfig
from stance.data import load_data
from stance.data.pool import read_pool
from stance.errors import DataError
from stance.runtime.masking import is_secret_key, mask

LABELS = ["FAVOR", "AGAINST", "NONE"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_tfidf(tmp_path_factory.mktemp("tfidf") / "model")


def _cli(*args, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "stance.cli", *args], env=env, capture_output=True, text=True,
                          timeout=60, **kw)


# ---------------------------------------------------------------- secrets


@pytest.mark.parametrize("key", ["db_pwd", "pass", "sas_sig", "bearer", "X-Amz-Signature", "session_id",
                                 "tracking.tags.auth_cookie"])
def test_secret_keys_by_their_words(key):
    assert is_secret_key(key) and mask("s3cr3t-value", key) == "***"


@pytest.mark.parametrize("key", ["passage", "bypass", "design", "keywords", "monkey", "max_tokens", "signal"])
def test_ordinary_keys_stay_visible(key):
    assert not is_secret_key(key)


@pytest.mark.parametrize("value, hidden, shown", [
    ("http://alice:pa/ss@host", "pa/ss", "http://alice:***@host"),
    ("postgresql://bob:S3cr@tPW@host/db", "tPW", "postgresql://bob:***@host/db"),
    ("https://acct.blob.core.windows.net/c/x?sv=2024&sig=AbCdEf123&se=1", "AbCdEf123", "sig=***&se=1"),
    ("https://b.s3.amazonaws.com/x?X-Amz-Signature=fe12ab&X-Amz-Date=1", "fe12ab", "X-Amz-Signature=***&"),
    ("http://h:5000/?token=zz9", "zz9", "?token=***"),
    ("the header was Authorization: Bearer abcdefgh12345678", "abcdefgh12345678", "Authorization: ***"),
    ("key AKIAABCDEFGHIJKLMNOP in a message", "AKIAABCDEFGHIJKLMNOP", "key *** in"),
])
def test_uri_passwords_signatures_and_credential_values_are_masked(value, hidden, shown):
    assert hidden not in mask(value) and shown in mask(value)


def test_a_secret_in_a_validation_error_is_not_printed(tiny_corpus, tmp_path, capsys):
    for override in ("tracking.tags.api_token=[t0k-V3ry-S3cret]", "tracking.tags.db_pwd={x: pw-9876}"):
        with pytest.raises(ConfigError) as e:
            shrunk_config("baseline.yaml", tiny_corpus, (override,))
        assert "t0k-V3ry-S3cret" not in str(e.value) and "pw-9876" not in str(e.value)
        assert "tracking.tags." in str(e.value) and "'***'" in str(e.value)


def test_secret_tags_never_reach_the_store(tiny_corpus, tracking_uri):
    import mlflow

    from stance.workflows.training import train

    tags = {"db_pwd": "pw-1111", "pass": "pw-2222", "sas_sig": "sig-3333", "bearer": "tok-4444"}
    result = train(shrunk_config("baseline.yaml", tiny_corpus, tuple(f"tracking.tags.{k}={v}" for k, v in
                                                                       tags.items()), max_iter=50))
    run = mlflow.get_run(result.run_id)
    config_yaml = mlflow.artifacts.load_text(f"runs:/{result.run_id}/config.yaml")
    everything = json.dumps([run.data.tags, run.data.params]) + config_yaml
    assert not any(v in everything for v in tags.values())
    assert "db_pwd: '***'" in config_yaml


def test_a_password_with_a_slash_is_not_echoed_by_the_store_check(monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://alice:pa/ss@127.0.0.1:9/")
    assert main(["predict", "--model", "models:/stance-tfidf/latest", "Build the wall."]) != 0
    err = capsys.readouterr().err
    assert "pa/ss" not in err and "'pa'" not in err and "percent-encoded" in err


def test_stance_ui_keeps_the_store_uri_off_the_command_line():
    from stance.tracking.views import ui_command, ui_environment

    uri = "postgresql://bob:S3cr3tPW@127.0.0.1:5432/mlflow"
    assert "S3cr3tPW" not in " ".join(ui_command(uri, "127.0.0.1", 5000))
    assert ui_environment(uri)["MLFLOW_BACKEND_STORE_URI"] == uri  # where `mlflow server` reads it


# ---------------------------------------------------------------- exit codes


def test_ui_refuses_a_port_out_of_range_before_printing_links(tmp_path):
    done = _cli("ui", "--port", "99999", "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}", cwd=tmp_path)
    assert done.returncode != 0 and "--port 99999 is not a port number" in done.stderr
    assert "http://" not in done.stdout and "Traceback" not in done.stderr


def test_ui_refuses_a_port_that_is_taken_before_printing_links(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _cli("ui", "--port", str(port), "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}", cwd=tmp_path)
    assert done.returncode != 0 and f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "http://" not in done.stdout


def test_a_batch_with_a_non_numeric_score_names_file_line_and_column(tmp_path):
    from stance.workflows.annotate import session_items

    pool = write_jsonl(tmp_path / "pool.jsonl", [{"id": "a", "text": "one"}, {"id": "b", "text": "two"}])
    batch = tmp_path / "batch.csv"
    batch.write_text("id,text,suggestion,FAVOR,AGAINST,NONE\na,one,FAVOR,0.8,0.1,0.1\nb,two,NONE,high,0.1,0.2\n")
    with pytest.raises(DataError, match=rf"{batch} line 3, column 'FAVOR': 'high' is not a score between 0 and 1"):
        session_items(str(pool), str(tmp_path / "labels.jsonl"), "ann", batch=str(batch))


# ---------------------------------------------------------------- one JSON reader


def test_line_separators_inside_json_strings_are_read_by_every_reader(model_dir, tmp_path, capsys):
    rows = tiny_rows()
    rows[0] = {**rows[0], "text": rows[0]["text"] + "\u2028and\u0085more"}
    path = write_jsonl(tmp_path / "raw.jsonl", [])
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert "\u2028" in path.read_text(encoding="utf-8")  # raw, not escaped: valid JSON
    data = load_data(DataConfig(path=str(path)), seed=1)
    assert sum(map(len, data.splits.values())) == len(rows)
    pool = tmp_path / "pool.jsonl"
    pool.write_text(json.dumps({"id": 0, "text": "a\u2028b"}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert read_pool(pool)["text"].tolist() == ["a\u2028b"]
    assert main(["predict", "--model", str(model_dir), "--input", str(path), "--output",
                 str(tmp_path / "out.jsonl")]) == 0
    assert len((tmp_path / "out.jsonl").read_text(encoding="utf-8").split("\n")) == len(rows) + 1


def test_a_byte_order_mark_is_skipped_by_predict_as_by_training(model_dir, tmp_path):
    rows = tiny_rows()
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(r) + "\n" for r in rows).encode())
    assert sum(map(len, load_data(DataConfig(path=str(path)), seed=1).splits.values())) == len(rows)
    assert main(["predict", "--model", str(model_dir), "--input", str(path), "--output",
                 str(tmp_path / "out.jsonl")]) == 0
    out = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(out) == len(rows) and all(r["label"] for r in out)


def test_a_json_id_zero_is_an_id(tmp_path):
    from stance.data.labels import read_answers
    from stance.workflows.annotate import import_batch

    pool = write_jsonl(tmp_path / "pool.jsonl", [{"id": 0, "text": "zero"}, {"id": 1, "text": "one"}])
    batch = write_jsonl(tmp_path / "batch.jsonl", [{"id": 0, "label": "FAVOR"}, {"id": 1, "label": "NONE"}])
    r = import_batch(str(batch), str(tmp_path / "labels.jsonl"), "ann", pool=str(pool), track=False)
    assert r.added == 2
    assert {a.id: a.label for a in read_answers(tmp_path / "labels.jsonl", LABELS)} == {"0": "FAVOR", "1": "NONE"}


# ---------------------------------------------------------------- long statements, spreadsheets, safe writes


def test_a_huge_statement_is_bounded_for_the_model_and_kept_whole_in_the_output(model_dir, tmp_path, capsys):
    from stance.prediction.scoring import MAX_MODEL_CHARS, clean_text

    huge = "Deport every criminal alien. " * (2 * MAX_MODEL_CHARS // 29)
    assert len(clean_text(huge)) == MAX_MODEL_CHARS
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": huge}, {"text": "Build the wall."}])
    assert main(["predict", "--model", str(model_dir), "--input", str(src), "--output",
                 str(tmp_path / "out.jsonl")]) == 0
    out = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert out[0]["text"] == huge and out[0]["label"] == "FAVOR"
    assert f"line 1: {len(huge):,} characters; the model read the first {MAX_MODEL_CHARS:,}" in capsys.readouterr().err


FORMULAS = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]


def test_csv_outputs_escape_formulas_and_read_back_unchanged(model_dir, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": t} for t in FORMULAS])
    assert main(["predict", "--model", str(model_dir), "--input", str(src), "--output", str(tmp_path / "o.csv")]) == 0
    with open(tmp_path / "o.csv", newline="", encoding="utf-8") as f:
        cells = [row["text"] for row in csv.DictReader(f)]
    assert cells == ["'" + t for t in FORMULAS]  # a spreadsheet shows these as text
    assert pd.read_csv(tmp_path / "o.csv")["FAVOR"].between(0, 1).all()  # numbers stay numbers
    # What stance wrote reads back as it was, by the data reader and by predict.
    rows = [{"text": t, "label": "FAVOR", "target": TARGET} for t in FORMULAS]
    pd.DataFrame(rows).pipe(lambda df: __import__("stance.runtime.spreadsheet", fromlist=["x"]).write_frame(
        df, tmp_path / "data.csv"))
    from stance.data.readers import read_records

    assert [r["text"] for r in read_records(tmp_path / "data.csv")] == FORMULAS
    assert main(["predict", "--model", str(model_dir), "--input", str(tmp_path / "data.csv"), "--output",
                 str(tmp_path / "again.jsonl")]) == 0
    assert [json.loads(x)["text"] for x in (tmp_path / "again.jsonl").read_text().splitlines()] == FORMULAS


def test_an_annotation_batch_csv_escapes_formulas(tmp_path):
    from stance.workflows.annotate import _write_batch

    frame = pd.DataFrame({"id": ["a"], "text": ["=cmd|' /C calc'!A0"], "FAVOR": [0.5]})
    _write_batch(frame, tmp_path / "b.csv", "csv")
    assert "\"'=cmd|' /C calc'!A0\"" in (tmp_path / "b.csv").read_text()


def test_explain_html_replaces_through_the_safe_writer_and_says_so(model_dir, tmp_path, capsys):
    page = tmp_path / "page.html"
    page.write_text("mine")
    os.chmod(page, 0o640)
    assert main(["explain", "--model", str(model_dir), "--html", str(page), "Build the wall."]) == 0
    assert f"replaced {page}" in capsys.readouterr().out
    assert page.read_text().lstrip().lower().startswith("<!doctype html") and oct(page.stat().st_mode)[-3:] == "640"
    assert not list(tmp_path.glob(".page.html.*"))
