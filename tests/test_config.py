import pytest

from conftest import ROOT
from stance.config import Config, ConfigError, TfidfConfig, TransformerConfig, flatten, load_config, parse_override


def test_baseline_config_loads_typed():
    cfg = load_config(ROOT / "configs" / "baseline.yaml")
    assert isinstance(cfg, Config) and isinstance(cfg.model, TfidfConfig)
    assert cfg.model.char_ngrams == (2, 5)
    assert cfg.registered_model_name == "stance-tfidf"


def test_transformer_config_loads_typed():
    cfg = load_config(ROOT / "configs" / "transformer.yaml")
    assert isinstance(cfg.model, TransformerConfig)
    assert cfg.registered_model_name == "stance-transformer"


def test_override_changes_value_with_yaml_types():
    cfg = load_config(ROOT / "configs" / "baseline.yaml", ["model.C=2.0", "model.grid_C=[0.5, 1, 4]", "seed=7"])
    assert cfg.model.C == 2.0 and cfg.model.grid_C == [0.5, 1.0, 4.0] and cfg.seed == 7


def test_override_indexes_lists():
    cfg = load_config(ROOT / "configs" / "baseline.yaml", ["eval_sets.0.path=/elsewhere/x.jsonl"])
    assert cfg.eval_sets[0].path == "/elsewhere/x.jsonl"


def test_unknown_key_names_nearest_valid_key():
    with pytest.raises(ConfigError, match=r"unknown key 'model\.cc'; did you mean 'model\.C'\?"):
        load_config(ROOT / "configs" / "baseline.yaml", ["model.cc=2"])


def test_unknown_nested_data_key_is_named():
    with pytest.raises(ConfigError, match=r"unknown key 'data\.text_colum'; did you mean 'data\.text_column'"):
        load_config(ROOT / "configs" / "baseline.yaml", ["data.text_colum=body"])


def test_wrong_type_is_an_error():
    with pytest.raises(ConfigError, match=r"model\.C: .*number"):
        load_config(ROOT / "configs" / "baseline.yaml", ["model.C=lots"])


def test_impossible_values_are_errors():
    with pytest.raises(ConfigError, match=r"model\.learning_rate: Input should be greater than 0"):
        load_config(ROOT / "configs" / "transformer.yaml", ["model.learning_rate=-0.1"])
    with pytest.raises(ConfigError, match=r"data\.test_size: Input should be less than 1"):
        load_config(ROOT / "configs" / "baseline.yaml", ["data.test_size=1.5"])


def test_unknown_model_kind():
    with pytest.raises(ConfigError, match="unknown model kind 'xgboost'; valid kinds: tfidf, transformer"):
        load_config(ROOT / "configs" / "baseline.yaml", ["model.kind=xgboost"])


def test_missing_file_and_bad_override():
    with pytest.raises(ConfigError, match="config file not found: nope.yaml"):
        load_config("nope.yaml")
    with pytest.raises(ConfigError, match="must look like key.path=value"):
        parse_override("model.C")


def test_flatten_gives_dotted_params():
    assert flatten({"a": {"b": 1, "c": {"d": [1, 2]}}, "e": None}) == {"a.b": 1, "a.c.d": [1, 2], "e": None}


def test_base_file_and_env_defaults(tmp_path, monkeypatch):
    (tmp_path / "data.yaml").write_text("data:\n  name: shared\n  path: ${MY_DATA:-/default}/x.csv\n")
    (tmp_path / "run.yaml").write_text("base: data.yaml\nmodel:\n  kind: tfidf\n")
    monkeypatch.delenv("MY_DATA", raising=False)
    cfg = load_config(tmp_path / "run.yaml")
    assert cfg.data.name == "shared" and cfg.data.path == "/default/x.csv"
    monkeypatch.setenv("MY_DATA", "/elsewhere")
    assert load_config(tmp_path / "run.yaml").data.path == "/elsewhere/x.csv"


def test_env_without_default_and_base_cycle_are_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("NOPE_VAR", raising=False)
    (tmp_path / "a.yaml").write_text("data:\n  path: ${NOPE_VAR}/x.csv\nmodel: {kind: tfidf}\n")
    with pytest.raises(ConfigError, match="environment variable NOPE_VAR is not set and has no default"):
        load_config(tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text("base: c.yaml\n")
    (tmp_path / "c.yaml").write_text("base: b.yaml\n")
    with pytest.raises(ConfigError, match="'base' files include each other"):
        load_config(tmp_path / "b.yaml")


def test_benchmark_configs_resolve_shared_paths():
    cfg = load_config(ROOT / "configs" / "semeval2016-tfidf.yaml")
    assert cfg.data.encoding == "cp1252" and len(cfg.data.train) == 2
    assert cfg.data.train[1].endswith("semeval2016-task6/trainingdata-all-annotations.txt")
    assert cfg.eval_sets[0].name == "taskB"
    assert load_config(ROOT / "configs" / "pstance-transformer.yaml").data.labels == ["FAVOR", "AGAINST"]
