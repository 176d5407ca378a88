"""A tiny fine-tune through the real path (the real config, shrunk): MLflow run, registry, predict."""
import mlflow
import numpy as np
import pytest

from conftest import TARGET, shrunk_config
from stance import predict
from stance.models import load
from stance.workflows.training import train

pytestmark = pytest.mark.slow
TINY = dict(epochs=1, batch_size=8, max_length=48, early_stopping_patience=None)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One fine-tune shared by this module's tests (about 15 s on 2 cores)."""
    from conftest import private_store, tiny_rows, write_jsonl

    tmp = tmp_path_factory.mktemp("tr")
    corpus = write_jsonl(tmp / "tiny.jsonl", tiny_rows())
    with private_store(tmp):
        yield train(shrunk_config("transformer.yaml", corpus, **TINY)), corpus


def test_run_has_same_metric_names_as_baseline_and_epoch_history(trained):
    result, _ = trained
    client = mlflow.MlflowClient()
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags["model_kind"] == "transformer"
    for name in ("test_macro_f1", "test_f_avg", "test_f1_against", "dev_macro_f1", "train_time_s",
                 "train_examples_per_s", "model_size_mb"):
        assert name in run.data.metrics
    history = client.get_metric_history(result.run_id, "epoch_dev_macro_f1")
    assert len(history) == 1 and 0 <= history[0].value <= 1
    assert [m.value for m in client.get_metric_history(result.run_id, "epoch_train_loss")][0] > 0
    assert run.data.params["fit.n_truncated_train"] == "0"
    assert int(run.data.params["fit.n_parameters"]) > 20_000_000  # MiniLM-L6: 22.7 M
    assert (result.model_dir / "model.safetensors").is_file()
    assert not list(result.model_dir.glob("*.bin"))
    assert not (result.model_dir.parent / "checkpoints").exists()  # removed after a finished run


def test_registered_transformer_predicts_like_the_saved_model(trained):
    result, _ = trained
    assert result.registered == "models:/stance-transformer/1"
    texts = ["Build the wall and deport criminal aliens.", "Protect Dreamers from deportation.", "Road work ends soon."]
    via_registry = predict(texts, model="models:/stance-transformer/latest")
    local = load(result.model_dir)
    direct = local.predict_proba(texts, [TARGET] * 3)
    assert np.allclose([[p.scores[lab] for lab in local.labels] for p in via_registry], direct, atol=1e-6)
    assert [p.label for p in via_registry] == [local.labels[i] for i in direct.argmax(axis=1)]
    assert all(p.label in ("FAVOR", "AGAINST", "NONE") for p in via_registry)


def test_batching_by_length_does_not_change_scores(trained):
    result, _ = trained
    texts = ["Short.", "A much longer statement about detainers, county jails and federal grant conditions.", "Mid length one."]
    # Exact for the float path; int8 quantizes activations with one scale per batch and bf16 rounds
    # differently per shape, so batch-mates move their scores slightly (see test_inference.py for the bound).
    for mode, atol in (("fp32", 1e-5), ("bf16", 0.03), ("int8", 0.15), ("onnx", 1e-4), ("onnx-int8", 0.15)):
        m = load(result.model_dir, inference=mode)
        together = m.predict_proba(texts, [TARGET] * 3)
        alone = np.vstack([m.predict_proba([t], [TARGET]) for t in texts])
        assert np.allclose(together, alone, atol=atol), mode


def test_sliding_windows_cover_long_texts(trained):
    result, _ = trained
    m = load(result.model_dir)
    m.cfg = m.cfg.model_copy(update={"long_text": "sliding_window", "max_length": 40, "window_stride": 8})
    long_text = " ".join(["Sanctuary cities protect families and trust."] * 30)
    assert m.count_truncated([long_text], [TARGET]) == 1
    proba = m.predict_proba([long_text, "short one"], [TARGET] * 2)
    assert proba.shape == (2, 3) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)


def test_offline_hub_id_fails_at_once_with_advice():
    from stance.models.transformer import PretrainedNotFound, resolve_pretrained

    with pytest.raises(PretrainedNotFound, match=r"'roberta-base' is not a local folder and the Hugging Face hub is "
                                                 r"offline.*model.pretrained=default"):
        resolve_pretrained("roberta-base")


def test_pickle_weights_are_refused(trained, tmp_path):
    import shutil

    result, _ = trained
    copy = tmp_path / "m"
    shutil.copytree(result.model_dir, copy)
    (copy / "pytorch_model.bin").write_bytes(b"\x80\x04not really")
    with pytest.raises(RuntimeError, match=r"holds pickle-based files \['pytorch_model.bin'\]; refusing"):
        load(copy)


def test_temperature_is_fitted_on_dev_stored_and_applied(trained):
    import json

    result, _ = trained
    saved = json.loads((result.model_dir / "calibration.json").read_text())
    assert saved["method"] == "temperature" and saved["n_fit"] == 6 and saved["temperature"] > 0
    run = mlflow.get_run(result.run_id)
    assert float(run.data.params["fit.calibration_temperature"]) == pytest.approx(saved["temperature"], rel=1e-5)
    # Fitted to minimise dev NLL: never worse there than the raw model.
    assert run.data.metrics["dev_nll"] <= run.data.metrics["dev_nll_uncalibrated"] + 1e-6
    for name in ("test_ece", "test_ece_uncalibrated", "test_brier", "test_brier_uncalibrated"):
        assert 0 <= run.data.metrics[name] <= 2
    m = load(result.model_dir)
    texts = ["Build the wall and deport criminal aliens.", "Protect Dreamers from deportation.", "Road work ends soon."]
    raw = m.base.predict_proba(texts, [TARGET] * 3)
    z = np.log(raw) / saved["temperature"]
    expected = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    calibrated = m.predict_proba(texts, [TARGET] * 3)
    assert np.allclose(calibrated, expected, atol=1e-6)
    assert np.array_equal(calibrated.argmax(axis=1), raw.argmax(axis=1))  # temperature never changes a label


def test_explain_transformer_by_word_occlusion(trained, tmp_path, capsys):
    from stance.cli import main
    from stance.workflows.explain import explain

    result, _ = trained
    text = "Deport criminal aliens now."
    page = tmp_path / "why.html"
    assert main(["explain", "--model", str(result.model_dir), "--html", str(page), text]) == 0
    out = capsys.readouterr().out
    # fp32: exact whatever the batch (int8 scales activations per batch, so batch-mates shift scores)
    m = load(result.model_dir, inference="fp32")
    e = explain(text, m)[0]
    assert e.method == "occlusion" and out.startswith(f"{e.label}  (") and "[occlusion]" in out
    k = m.labels.index(e.label)
    full = m.predict_proba([text], [TARGET])[0, k]
    without = m.predict_proba(["criminal aliens now."], [TARGET])[0, k]
    assert dict(e.word_scores)["Deport"] == pytest.approx(full - without, abs=1e-4)
    assert ">Deport</span>" in page.read_text()


def test_frozen_lower_layers_keep_their_pretrained_weights(tmp_path):
    """model.freeze_layers=4: the embeddings and layers 0-3 leave training as pretrained, layers 4-5 move."""
    import torch
    from transformers import AutoModel

    from conftest import private_store, tiny_rows, write_jsonl
    from stance.models.transformer import resolve_pretrained

    corpus = write_jsonl(tmp_path / "tiny.jsonl", tiny_rows())
    with private_store(tmp_path):
        result = train(shrunk_config("transformer.yaml", corpus, **TINY, freeze_layers=4, inference="fp32"))
    tuned = load(tmp_path / result.model_dir).base.model.base_model.state_dict()
    pretrained = AutoModel.from_pretrained(resolve_pretrained("default")).state_dict()
    same = {k for k, v in pretrained.items() if k in tuned and torch.equal(v, tuned[k])}
    assert all(k in same for k in pretrained if k.startswith(("embeddings.", "encoder.layer.0.", "encoder.layer.3.")))
    assert not any(k.startswith("encoder.layer.5.") for k in same)


def test_freezing_more_layers_than_the_encoder_has_names_the_count():
    from stance.config import TransformerConfig
    from stance.errors import ConfigError
    from stance.models.transformer import TransformerModel, freeze_lower_layers, resolve_pretrained

    model = TransformerModel(TransformerConfig(), ["AGAINST", "FAVOR", "NONE"])
    model._load_pretrained(resolve_pretrained("default"))
    with pytest.raises(ConfigError, match="only 6 layers"):
        freeze_lower_layers(model.model, 7)
