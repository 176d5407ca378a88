"""Experiments: configs x seeds as nested runs under one parent."""
import mlflow

from conftest import ROOT
from stance.experiment import load_experiment, plan, run_experiment


def test_shipped_experiment_files_are_valid():
    for path in sorted((ROOT / "experiments").glob("*.yaml")):
        spec = load_experiment(path)
        assert spec.seeds == [13, 14, 15] and len(spec.configs) == 2
        cfgs = plan(spec)  # every config loads and validates (paths are not read here)
        assert {c.model.kind for c in cfgs} == {"tfidf", "transformer"}
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
