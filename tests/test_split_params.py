"""Issue 17 item 10: data.dev_size/test_size are logged as what decided the splits, and setting them where a
split column decides is warned about instead of silently ignored."""
import mlflow

from conftest import shrunk_config, tiny_rows, write_jsonl
from stance.workflows.training import train


def test_dev_size_on_a_file_with_a_split_column_is_warned_about_and_logged_as_unused(tiny_corpus, tracking_uri,
                                                                                     capsys):
    result = train(shrunk_config("baseline.yaml", tiny_corpus, extra=("data.dev_size=0.5",)))
    err = capsys.readouterr().err
    origin = f"split column 'split' of {tiny_corpus}"
    assert f"[stance] warning: data.dev_size=0.5 ignored: the splits come from the {origin}\n" in err
    params = mlflow.get_run(result.run_id).data.params
    assert params["data.dev_size"] == params["data.test_size"] == f"from the {origin}"
    assert params["data.n_dev"] == "6"  # the file's split, not half of the rows
    config_yaml = mlflow.artifacts.load_text(f"runs:/{result.run_id}/config.yaml")
    assert "dev_size: 0.5" in config_yaml  # the config as given (what --resume compares)


def test_dev_size_is_logged_as_a_number_where_it_drew_the_split(tmp_path, tracking_uri, capsys):
    corpus = write_jsonl(tmp_path / "unsplit.jsonl", [{k: v for k, v in r.items() if k != "split"}
                                                      for r in tiny_rows()])
    result = train(shrunk_config("baseline.yaml", corpus, extra=("data.dev_size=0.5",)))
    assert "warning" not in capsys.readouterr().err
    params = mlflow.get_run(result.run_id).data.params
    assert (params["data.dev_size"], params["data.test_size"], params["data.n_dev"]) == ("0.5", "0.15", "18")
