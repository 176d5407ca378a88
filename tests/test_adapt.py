"""model.adapt: masked-LM training on in-domain text before fine-tuning, recorded with the run."""
import mlflow
import pytest

from conftest import shrunk_config, write_jsonl
from stance.config import AdaptConfig, TextFileConfig
from stance.models.adapt import extra_texts
from stance.workflows.training import train

pytestmark = pytest.mark.slow
TINY = dict(epochs=1, batch_size=8, max_length=48, early_stopping_patience=None, inference="fp32")


def test_adapted_encoder_is_trained_then_fine_tuned_and_recorded(tiny_corpus, tracking_uri, tmp_path):
    unlabelled = write_jsonl(tmp_path / "unlabelled.jsonl",
                             [{"statement": f"The county jail held {n} people on ICE detainers this month."}
                              for n in range(40)])
    adapt = {"texts": [{"path": str(unlabelled), "text_column": "statement"}], "max_steps": 3, "batch_size": 8,
             "heldout": 0.1}
    result = train(shrunk_config("transformer.yaml", tiny_corpus, adapt=adapt, **TINY))
    params = mlflow.get_run(result.run_id).data.params
    assert params["fit.adapt_texts"] == str(24 + 40 - 6)  # train split + file, less the held-out 10%
    assert params["fit.adapt_steps"] == "3"
    before, after = float(params["fit.adapt_heldout_loss_before"]), float(params["fit.adapt_heldout_loss_after"])
    assert after < before  # three MLM steps on near-identical sentences must lower their held-out loss
    assert params["model.adapt.max_steps"] == "3"
    assert not list(result.model_dir.rglob("*.bin"))  # the fine-tuned model is safetensors like any other


def test_a_text_file_without_the_column_is_named(tmp_path):
    bad = write_jsonl(tmp_path / "u.jsonl", [{"text": "fine"}, {"body": "no text column"}])
    with pytest.raises(ValueError, match=r"u.jsonl: record 2: no text in column 'text'"):
        extra_texts(AdaptConfig(texts=[TextFileConfig(path=str(bad))]))
    assert extra_texts(AdaptConfig(texts=[TextFileConfig(path=str(tmp_path / "absent.jsonl"), optional=True)])) == []
