"""Issue 17 item 4: one masking rule for everything that leaves the process (params, tags, run name, the
logged config, messages)."""
import mlflow
import pytest

from conftest import shrunk_config
from stance.runtime.masking import is_secret_key, mask, mask_tree
from stance.workflows.training import train


@pytest.mark.parametrize("value, shown", [
    ("postgresql://bob:pw@db/x", "postgresql://bob:***@db/x"),
    ("http://alice:S3cretPW@127.0.0.1:5000", "http://alice:***@127.0.0.1:5000"),
    ("https://:tok@host/api", "https://:***@host/api"),
    ("postgresql://db/x?user=bob&password=pw&sslmode=require", "postgresql://db/x?user=bob&password=***&sslmode=require"),
    ("run at sqlite:///mlflow.db and postgresql://mlflow@127.0.0.1:5432/mlflow",
     "run at sqlite:///mlflow.db and postgresql://mlflow@127.0.0.1:5432/mlflow"),  # no password: unchanged
    (0.5, "0.5"),
])
def test_uri_passwords_are_masked_wherever_they_appear(value, shown):
    assert mask(value) == shown


@pytest.mark.parametrize("key", ["api_token", "tracking.tags.api_token", "apiKey", "AWS_SECRET_ACCESS_KEY", "key",
                                 "db_password", "accessToken", "client_secret", "credentials", "auth"])
def test_secret_looking_keys_hide_their_whole_value(key):
    assert is_secret_key(key) and mask("anything at all", key) == "***"


@pytest.mark.parametrize("key", ["tracking.uri", "tracking.run_name", "max_tokens", "monkey", "author",
                                 "data.label_column", "registered_model", "model.max_length"])
def test_ordinary_keys_are_not_secret(key):
    assert not is_secret_key(key)


def test_mask_tree_keeps_types_and_masks_leaves():
    tree = {"seed": 13, "tracking": {"tags": {"api_token": "t0k", "source": "mysql://u:p@h/d"}, "log_model": True},
            "eval_sets": [{"path": "https://:tok@h/x.csv"}]}
    assert mask_tree(tree) == {"seed": 13, "tracking": {"tags": {"api_token": "***", "source": "mysql://u:***@h/d"},
                                                        "log_model": True},
                               "eval_sets": [{"path": "https://:***@h/x.csv"}]}


def test_secret_tag_and_uri_run_name_never_reach_the_run(tiny_corpus, tracking_uri, capsys):
    cfg = shrunk_config("baseline.yaml", tiny_corpus, extra=(
        "tracking.tags.api_token=t0k-V3ry-S3cret", "tracking.run_name=postgresql://bob:pw-9876@db/x"))
    result = train(cfg)
    run = mlflow.get_run(result.run_id)
    config_yaml = mlflow.artifacts.load_text(f"runs:/{result.run_id}/config.yaml")
    assert "api_token: '***'" in config_yaml  # the key is kept, so the config still says a token was set
    assert run.info.run_name == run.data.tags["mlflow.runName"] == "postgresql://bob:***@db/x"
    assert run.data.params["tracking.run_name"] == "postgresql://bob:***@db/x"
    assert "api_token" not in run.data.tags and "tracking.tags.api_token" not in run.data.params
    everything = " ".join([config_yaml, run.info.run_name, *run.data.params.values(), *run.data.tags.values(),
                           *capsys.readouterr()])
    assert "t0k-V3ry-S3cret" not in everything and "pw-9876" not in everything
