"""Runs that say what they are: the run name carries the config and every --set, a tag and the Description hold
them in full, the registered version is described and tagged, and ad-hoc training leaves the demo's alias alone."""
import mlflow

from conftest import shrunk_config
from stance import tracking
from stance.tracking.descriptions import masked_overrides, run_name
from stance.workflows.training import train


def test_run_name_shortens_each_override_and_leaves_out_where_the_run_is_kept():
    sets = ("model.C=4", "data.path=/home/me/data/my_statements.csv", "eval_sets.0.path=x.csv", "seed=7",
            "tracking.uri=sqlite:///a.db", "model.ngram_range=[1, 3]")
    assert run_name("tfidf", "configs/baseline.yaml", "immigration", 7, sets) == \
        "tfidf baseline C=4 path=my_statements.csv eval_sets.path=x.csv ngram_range=[1, 3] seed=7"
    assert run_name("transformer", "configs/transformer.yaml", "immigration", 13, ()) == "transformer seed=13"
    assert run_name("tfidf", None, "immigration", 13, ()) == "tfidf immigration seed=13"
    assert masked_overrides(("tracking.tags.api_token=s3cret", " model.C = 4")) == \
        ("tracking.tags.api_token=***", "model.C=4")


def test_an_override_names_the_run_tags_it_and_describes_its_version_without_moving_the_demo_alias(
        tiny_corpus, tracking_uri):
    first = train(shrunk_config("baseline.yaml", tiny_corpus))
    tracking.set_alias(first.registered, tracking.DEMO_ALIAS)  # what `make demo` does after each model
    second = train(shrunk_config("baseline.yaml", tiny_corpus, extra=("model.C=4",)))

    run = mlflow.get_run(second.run_id)
    assert run.info.run_name.startswith("tfidf baseline path=tiny") and run.info.run_name.endswith(" C=4 seed=13")
    assert mlflow.get_run(first.run_id).info.run_name != run.info.run_name
    assert run.data.tags["stance.overrides"].endswith("; behaviour=null; model.C=4")
    assert run.data.tags["stance.config"].endswith("configs/baseline.yaml")
    assert "`--set model.C=4`" in run.data.tags["mlflow.note.content"]

    client = mlflow.MlflowClient()
    version = client.get_model_version("stance-tfidf", second.registered.rsplit("/", 1)[1])
    assert version.tags["stance.run_id"] == second.run_id and version.tags["model_kind"] == "tfidf"
    assert version.tags["stance.overrides"] == run.data.tags["stance.overrides"]
    assert len(version.tags["dataset_digest"]) == 16 and version.tags["dataset_digest"] in version.description
    assert f"`{second.run_id}`" in version.description and "`--set model.C=4`" in version.description
    assert f"test {second.metrics['test_macro_f1']:.3f}" in version.description
    # Ad-hoc training moved `latest`, never the alias users are told to call.
    assert str(client.get_model_version_by_alias("stance-tfidf", "demo").version) == first.registered.rsplit("/", 1)[1]
    assert tracking.resolve_model_uri("models:/stance-tfidf/latest") == second.registered


def test_a_misspelt_model_name_is_named_with_the_registered_ones(tiny_corpus, tracking_uri, capsys):
    from stance.cli import main

    train(shrunk_config("baseline.yaml", tiny_corpus))
    for ref in ("models:/stance-tfdif/latest", "models:/stance-tfdif@demo"):
        assert main(["predict", "--model", ref, "Build the wall."]) == 2
        assert f"stance predict: {ref}: no such model 'stance-tfdif'; registered: stance-tfidf" in capsys.readouterr().err


def test_stance_train_is_quiet_and_ends_with_the_experiment_and_the_runs_link(tiny_corpus, tracking_uri, capfd):
    from conftest import ROOT
    from stance.cli import main

    sets = [f"data.path={tiny_corpus}", "data.exclude=null", "eval_sets=[]", "behaviour=null", "model.C=4"]
    assert main(["train", str(ROOT / "configs" / "baseline.yaml"), *(x for s in sets for x in ("--set", s))]) == 0
    out, err = capfd.readouterr()
    run_id = out.split("run:   ")[1].split()[0]
    assert f"in experiment 'stance-immigration'" in out
    assert f"http://127.0.0.1:5000/#/experiments/1/runs/{run_id}?workflowType=machine_learning" in out
    # MLflow's INFO lines and download bars are hidden; stance's own progress lines stay.
    assert "INFO mlflow" not in err and "Downloading artifacts" not in err and "[stance] training tfidf" in err
    assert mlflow.get_run(run_id).info.run_name.endswith(" C=4 seed=13")
