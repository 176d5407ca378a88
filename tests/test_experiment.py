"""Experiments: configs x seeds as nested runs under one parent."""
import mlflow

from conftest import ROOT
from stance.workflows.experiment import load_experiment, plan, run_experiment


def test_shipped_experiment_files_are_valid():
    for path in sorted((ROOT / "experiments").glob("*.yaml")):
        spec = load_experiment(path)
        assert spec.seeds == [13, 14, 15]
        cfgs = plan(spec)  # every config loads and validates (paths are not read here)
        # Two different models to compare (kinds, a pooled and a per-target model of one kind, or an ensemble and
        # the member configs it trains as runs of the same experiment).
        members = {m for c in cfgs for m in c.model.member_refs() if m.endswith(".yaml")}
        assert len({(c.model.kind, c.model.per_target) for c in cfgs} | members) >= 2
        assert all(c.tracking.experiment == spec.experiment for c in cfgs)


def test_experiment_runs_nested_children_per_seed(tiny_corpus, tracking_uri, tmp_path):
    exp = tmp_path / "exp.yaml"
    exp.write_text(f"""name: tiny
experiment: stance-tiny
configs: [{ROOT / 'configs' / 'baseline.yaml'}]
seeds: [1, 2]
overrides: ["data.path={tiny_corpus}", "data.exclude=null", "eval_sets=[]"]
""")
    result = run_experiment(exp, compare=False)
    assert len(result.children) == 2
    children = mlflow.search_runs(experiment_names=["stance-tiny"],
                                  filter_string=f"tags.mlflow.parentRunId = '{result.parent_run_id}'",
                                  output_format="list")
    assert sorted(r.data.params["seed"] for r in children) == ["1", "2"]
    parent = mlflow.get_run(result.parent_run_id)
    assert parent.info.status == "FINISHED" and parent.data.tags["run_type"] == "experiment"
    assert "experiment_wall_s" in parent.data.metrics


def test_an_ensemble_experiment_trains_its_members_per_seed_as_children(tiny_corpus, tracking_uri, tmp_path):
    """Member config files are trained with each seed of the experiment, as children of its parent run."""
    import json

    from conftest import tfidf_member_config

    members = [tfidf_member_config(tmp_path, "words", tiny_corpus, char_ngrams=[3, 3]),
               tfidf_member_config(tmp_path, "chars", tiny_corpus, word_ngrams=[1, 1], C=0.1)]
    exp = tmp_path / "exp.yaml"
    exp.write_text(f"""name: tiny-ensemble
experiment: stance-tiny
configs: [{ROOT / 'configs' / 'ensemble.yaml'}]
seeds: [1, 2]
overrides: ["data.path={tiny_corpus}", "data.exclude=null", "eval_sets=[]", "behaviour=null",
            'model.members={json.dumps(members)}']
""")
    result = run_experiment(exp, compare=False)
    children = mlflow.search_runs(experiment_names=["stance-tiny"],
                                  filter_string=f"tags.mlflow.parentRunId = '{result.parent_run_id}'")
    seeds = children.groupby("tags.model_name")["params.seed"].apply(sorted).to_dict()
    assert seeds == {"ensemble": ["1", "2"], "words": ["1", "2"], "chars": ["1", "2"]}


def test_a_store_given_with_set_holds_the_parent_and_its_children(tiny_corpus, tracking_uri, tmp_path):
    """--set tracking.uri=... once left the parent run in the default store: the children then failed."""
    exp = tmp_path / "exp.yaml"
    exp.write_text(f"""name: tiny
experiment: stance-tiny
configs: [{ROOT / 'configs' / 'baseline.yaml'}]
seeds: [1]
overrides: ["data.path={tiny_corpus}", "data.exclude=null", "eval_sets=[]", "model.min_df=1"]
""")
    other = f"sqlite:///{tmp_path / 'other.db'}"
    result = run_experiment(exp, [f"tracking.uri={other}"], compare=False)
    client = mlflow.MlflowClient(other)
    assert client.get_run(result.parent_run_id).info.status == "FINISHED"
    assert client.get_run(result.children[0].run_id).data.tags["mlflow.parentRunId"] == result.parent_run_id


def test_compare_table_and_bootstrap_from_logged_predictions(tiny_corpus, tracking_uri, tmp_path, capsys):
    from stance.workflows.compare import compare_runs, paired_bootstrap

    exp = tmp_path / "exp.yaml"
    exp.write_text(f"""name: two-kinds
experiment: stance-cmp
configs: [{ROOT / 'configs' / 'baseline.yaml'}]
seeds: [1, 2]
overrides: ["data.path={tiny_corpus}", "data.exclude=null", "eval_sets=[]"]
""")
    result = run_experiment(exp, compare=False)
    # A second group on the same test set: the same baseline with a far weaker C.
    from conftest import shrunk_config
    from stance.workflows.training import train

    weak = train(shrunk_config("baseline.yaml", tiny_corpus, C=0.0001, class_weight=None,
                               extra=("tracking.experiment=stance-cmp", "tracking.registered_model=stance-tfidf-weak")))
    report = compare_runs(experiment="stance-cmp")
    table = report.table.set_index("model")
    assert set(table.index) == {"tfidf", "tfidf-weak"}
    assert table.loc["tfidf", "seeds"] == "1,2"
    runs = [c.run_id for c in result.children]
    metrics = [mlflow.get_run(r).data.metrics["test_macro_f1"] for r in runs]
    # Numbers in the table; "mean ± std" only where it is printed.
    assert table.loc["tfidf", "test_macro_f1"] == __import__("pytest").approx(sum(metrics) / 2)
    shown = report.formatted().set_index("model").loc["tfidf", "test_macro_f1"]
    assert shown == f"{sum(metrics) / 2:.3f} ± {__import__('numpy').std(metrics):.3f}"
    # The bootstrap's point estimate is the logged metric difference.
    diff, low, high, n = paired_bootstrap(runs, [weak.run_id], "macro_f1", n=500)
    weak_f1 = mlflow.get_run(weak.run_id).data.metrics["test_macro_f1"]
    assert diff == __import__("pytest").approx(sum(metrics) / 2 - weak_f1, abs=1e-9)
    assert low <= diff <= high and n == 6
    files = report.write(tmp_path / "cmp")
    assert (tmp_path / "cmp" / "comparison.png").stat().st_size > 1000
    assert "paired bootstrap, 2000 resamples of 6 statements" in (tmp_path / "cmp" / "comparison.md").read_text()
    report.log_to(result.parent_run_id)
    logged = {f.path for f in mlflow.artifacts.list_artifacts(run_id=result.parent_run_id, artifact_path="comparison")}
    assert logged == {"comparison/comparison.md", "comparison/comparison.png", "comparison/comparison.json"}
    # Error analysis of the two compared models (first seed of each), as tables on the parent run.
    dis = mlflow.load_table("errors/disagreements_test.json", run_ids=[result.parent_run_id])
    wrong = mlflow.load_table("errors/misclassified_test.json", run_ids=[result.parent_run_id])
    preds = {name: __import__("pandas").read_csv(mlflow.artifacts.download_artifacts(
        run_id=r, artifact_path="eval/predictions_test.csv")) for name, r in (("tfidf", runs[0]), ("tfidf-weak", weak.run_id))}
    differ = (preds["tfidf"]["predicted"] != preds["tfidf-weak"]["predicted"]).sum()
    any_wrong = ((preds["tfidf"]["predicted"] != preds["tfidf"]["label"])
                 | (preds["tfidf-weak"]["predicted"] != preds["tfidf"]["label"])).sum()
    assert len(dis) == differ > 0 and len(wrong) == any_wrong
    assert {"tfidf_label", "tfidf-weak_label", "tfidf_confidence", "tfidf-weak_p_none"} <= set(dis.columns)
    assert len(files) == 3
    # The CLI prints what compare_runs computed: the table, the bootstrap line, and each item list's size
    # (written to a file: too long for a terminal).
    from stance.cli import main

    assert main(["compare", "--experiment", "stance-cmp", "--out", str(tmp_path / "cli"), "--resamples", "200"]) == 0
    out = capsys.readouterr().out
    assert "| dataset " in out and "paired bootstrap, 200 resamples of 6 statements" in out
    assert f"disagreements_test: {differ} statements ({tmp_path / 'cli' / 'errors' / 'disagreements_test.csv'})" in out
    assert len(__import__("pandas").read_csv(tmp_path / "cli" / "errors" / "misclassified_test.csv")) == any_wrong
