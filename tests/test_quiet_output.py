"""Quiet by default, loud on request (issue 30): third-party bars and dict logs stay out of a normal run."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from stance.models.trainer_callbacks import epoch_line


def test_trainer_logs_become_one_readable_line():
    # transformers prints {'eval_loss': '0.7537', ...}; ours reads as a sentence, whatever the value types
    assert epoch_line({"eval_loss": "0.7537", "eval_macro_f1": 0.6946, "eval_runtime": 34.9, "epoch": 2.0}) == \
        "[stance] epoch 2: dev macro-F1 0.695, dev loss 0.754"
    assert epoch_line({"train_runtime": 702.1, "train_loss": 0.7706, "epoch": 2.0}) == \
        "[stance] trained 2 epochs in 702 s, mean train loss 0.771"


@pytest.mark.slow
def test_a_transformer_predict_draws_no_loading_bar_unless_verbose(registered_transformer):
    _, result = registered_transformer
    # As a user runs it: the suite's conftest turns Hugging Face bars off for every test, a user's shell does not.
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_DISABLE_PROGRESS_BARS"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)

    def predict(*extra: str) -> str:
        done = subprocess.run([sys.executable, "-m", "stance.cli", "predict", *extra, "--inference", "fp32", "--model",
                               str(result.model_dir), "Honor every detainer."], capture_output=True, text=True,
                              env=env, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip(), "no prediction printed"
        return done.stderr

    assert "Loading weights" not in predict()
    assert "Loading weights" in predict("--verbose")


def test_registering_a_model_prints_no_mlflow_chatter(tiny_corpus, tracking_uri, capfd, monkeypatch):
    from conftest import shrunk_config
    from stance.workflows.training import train

    monkeypatch.delenv("STANCE_VERBOSE", raising=False)
    result = train(shrunk_config("baseline.yaml", tiny_corpus, min_df=1))
    assert result.model_ref.startswith("models:/stance-tfidf/")
    out, err = capfd.readouterr()
    assert "Successfully registered model" not in out + err and "Created version" not in out + err
