"""The CLI on a trained baseline: evaluate, predict from stdin/CSV, demo output."""
import json
import re
import subprocess
import sys

import pytest

from conftest import ROOT, shrunk_config
from terminal import run_on_a_terminal
from stance.cli import main
from stance.workflows.training import train


@pytest.fixture
def trained(tiny_corpus, tracking_uri):
    return train(shrunk_config("baseline.yaml", tiny_corpus))


def test_evaluate_prints_metrics_and_writes_files(trained, tiny_corpus, tmp_path, capsys):
    assert main(["evaluate", "--model", "models:/stance-tfidf/latest", "--data", str(tiny_corpus),
                 "--name", "tiny", "--out", str(tmp_path / "ev")]) == 0
    out = capsys.readouterr().out
    assert "tiny (n=36)" in out
    import mlflow

    run = mlflow.search_runs(experiment_names=["stance-evaluate"], output_format="list")[0]
    assert run.data.tags["evaluated_model"] == "models:/stance-tfidf/latest"
    assert run.data.metrics["tiny_n"] == 36 and 0 <= run.data.metrics["tiny_macro_f1"] <= 1
    folder = tmp_path / "ev" / run.info.run_id  # each run's files in a folder of its own
    assert f"files: {folder}" in out
    assert (folder / "confusion_tiny.png").stat().st_size > 1000
    preds = (folder / "predictions_tiny.csv").read_text().splitlines()
    assert len(preds) == 37  # header + every row


def test_predict_reads_stdin_and_csv(trained, tmp_path):
    csv_file = tmp_path / "in.csv"
    csv_file.write_text('text,extra\n"Protect immigrant families from raids, please.",1\n')
    cmd = [sys.executable, "-m", "stance.cli", "predict", "--model", str(trained.model_dir)]
    out = subprocess.run(cmd + ["--input", str(csv_file)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["label"] == "AGAINST"
    out = subprocess.run(cmd + ["--input", "-"], input=json.dumps({"text": "Deport criminal aliens now."}) + "\n",
                         capture_output=True, text=True, timeout=120)
    assert json.loads(out.stdout)["label"] == "FAVOR"


def test_predict_bad_input_line_is_named(trained, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"txt": "no text field"}\n')
    assert main(["predict", "--model", str(trained.model_dir), "--input", str(bad)]) == 2
    assert "bad.jsonl line 2: expected a JSON object with a 'text' field" in capsys.readouterr().err


def test_demo_prints_table_and_case_studies(tiny_corpus, tracking_uri, capsys):
    rc = main(["demo", str(ROOT / "configs" / "baseline.yaml"), "--examples", str(ROOT / "data" / "case_studies.jsonl"),
               "--set", f"data.path={tiny_corpus}", "--set", "data.exclude=null", "--set", "eval_sets=[]"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "| tfidf | test (n=6)" in out
    assert out.count("    tfidf ") == 3  # one line per case study
    assert "Jeff Sessions (US Attorney General) (gold FAVOR)" in out



def test_predict_on_a_terminal_prints_aligned_lines_and_json_when_piped(trained):
    long = "Protect immigrant families from raids, " + "and keep every family together " * 5
    args = ["predict", "--model", str(trained.model_dir), long, "Deport criminal aliens now."]
    rc, shown = run_on_a_terminal(args, columns=80)
    assert rc == 0
    lines = shown.splitlines()
    assert lines[0].startswith("stance toward: stricter federal immigration") and len(lines[0]) <= 80
    assert len(lines) == 3 and all(len(line) <= 80 for line in lines)  # the long target and statement are cut
    assert re.match(r"AGAINST  [01]\.\d\d  Protect immigrant", lines[1]) and lines[1].endswith("…")
    assert re.match(r"FAVOR    [01]\.\d\d  Deport criminal aliens now\.$", lines[2])
    assert lines[1].index("Protect") == lines[2].index("Deport")  # one column per field
    assert "{" not in shown

    # --json on a terminal, and a pipe without it: one JSON object per statement, the full text and target.
    rc, shown = run_on_a_terminal(args + ["--json"])
    assert rc == 0 and [json.loads(line)["label"] for line in shown.splitlines()] == ["AGAINST", "FAVOR"]
    piped = subprocess.run([sys.executable, "-m", "stance.cli", *args], capture_output=True, text=True, timeout=120)
    rows = [json.loads(line) for line in piped.stdout.splitlines()]
    assert [r["label"] for r in rows] == ["AGAINST", "FAVOR"] and rows[0]["text"] == long


def test_errors_are_one_line_unless_debug(tracking_uri, capsys):
    from stance.errors import DataError

    # A model name the registry does not know is the user's input: exit 2 (like a missing file), one line.
    assert main(["predict", "--model", "models:/no-such-model/latest", "a statement"]) == 2
    # (MLflow's own INFO lines about creating this fresh store are not the error)
    err = [line for line in capsys.readouterr().err.splitlines() if " INFO mlflow." not in line]
    assert len(err) == 1, err  # one line, no traceback
    assert err[0] == "stance predict: models:/no-such-model/latest: no such model 'no-such-model'; registered: none yet"
    with pytest.raises(DataError):
        main(["predict", "--model", "models:/no-such-model/latest", "a statement", "--debug"])
    with pytest.raises(DataError):
        main(["--debug", "predict", "--model", "models:/no-such-model/latest", "a statement"])
