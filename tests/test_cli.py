"""The CLI on a trained baseline: evaluate, predict from stdin/CSV, demo output."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT, shrunk_config
from stance.cli import main
from stance.train import train


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
    assert (tmp_path / "ev" / "confusion_tiny.png").stat().st_size > 1000
    preds = (tmp_path / "ev" / "predictions_tiny.csv").read_text().splitlines()
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
