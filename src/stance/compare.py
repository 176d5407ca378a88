"""`stance compare`: read runs back from MLflow, summarise them over seeds, and test the top two.

Groups runs by (dataset, model kind), reports mean ± std over seeds, and a paired bootstrap confidence
interval for the difference between the two best groups of each dataset, computed from the test
predictions every run logs (eval/predictions_test.csv), resampling statements (and averaging over seeds).
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from .evaluation import bootstrap
from .table import markdown
from .tracking import configure, log_tables

# One progress bar per downloaded predictions file is noise in a report.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

TEST_COLUMNS = ["test_f_avg", "test_macro_f1", "test_target_avg_macro_f1", "test_f1_favor", "test_f1_against",
                "test_f1_none"]
COST_COLUMNS = ["train_time_s", "model_size_mb"]
_NOT_EVAL_SETS = {"dev", "test", "epoch_dev"}


@dataclass
class Bootstrap:
    dataset: str
    a: str
    b: str
    metric: str
    diff: float
    low: float
    high: float
    n_resamples: int
    n_items: int

    def sentence(self) -> str:
        verdict = "significant" if self.low > 0 or self.high < 0 else "not significant"
        return (f"{self.dataset}: {self.a} − {self.b} {self.metric} = {self.diff:+.3f}, 95% CI "
                f"[{self.low:+.3f}, {self.high:+.3f}] (paired bootstrap, {self.n_resamples} resamples of "
                f"{self.n_items} statements; {verdict})")


@dataclass
class Comparison:
    table: pd.DataFrame
    bootstraps: list[Bootstrap] = field(default_factory=list)
    metric: str = "test_macro_f1"
    # Error analysis of the two compared models (one run of each): <table>_<eval set>[_<dataset>] -> frame.
    error_tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def markdown(self) -> str:
        cols = list(self.table.columns)
        text = markdown(self.table.values.tolist(), cols)
        if self.bootstraps:
            text += "\n\n" + "\n".join(f"- {b.sentence()}" for b in self.bootstraps)
        return text

    def write(self, out_dir: Path) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        md = out_dir / "comparison.md"
        md.write_text(self.markdown + "\n")
        js = out_dir / "comparison.json"
        js.write_text(json.dumps({"table": self.table.to_dict("records"),
                                  "bootstrap": [b.__dict__ for b in self.bootstraps]}, indent=2))
        return [md, js, self._chart(out_dir / "comparison.png")]

    def log_to(self, run_id: str) -> None:
        client = mlflow.MlflowClient()
        with tempfile.TemporaryDirectory(prefix="stance-compare-") as tmp:
            for f in self.write(Path(tmp)):
                client.log_artifact(run_id, str(f), artifact_path="comparison")
        log_tables(self.error_tables, "errors", run_id=run_id)

    def _chart(self, path: Path) -> Path:
        from .evaluation.plots import new_figure, save_figure

        col = self.metric
        rows = self.table[self.table[col] != "-"]
        labels = [f"{d} · {m}" for d, m in zip(rows["dataset"], rows["model"])]
        means = [float(v.split(" ± ")[0]) for v in rows[col]]
        stds = [float(v.split(" ± ")[1]) if " ± " in v else 0.0 for v in rows[col]]
        fig, ax = new_figure((7, 0.5 + 0.45 * max(len(labels), 1)))
        ax.barh(labels, means, xerr=stds, color="#4c78a8", capsize=3)
        ax.set_xlabel(f"{col} (mean ± std over seeds)")
        ax.set_xlim(0, 1)
        ax.invert_yaxis()
        return save_figure(fig, path)


def fetch_runs(experiment: str | None = None, parent_run_id: str | None = None,
               run_ids: list[str] | None = None) -> list[mlflow.entities.Run]:
    """Finished training runs of an experiment, of a parent run, or by id."""
    configure(None)
    client = mlflow.MlflowClient()
    if run_ids:
        return [client.get_run(r) for r in run_ids]
    if parent_run_id:
        exp_ids = [client.get_run(parent_run_id).info.experiment_id]
        filt = f"tags.mlflow.parentRunId = '{parent_run_id}'"
    elif experiment:
        found = client.get_experiment_by_name(experiment)
        if found is None:
            raise ValueError(f"no MLflow experiment named {experiment!r} in {mlflow.get_tracking_uri()}")
        exp_ids, filt = [found.experiment_id], ""
    else:
        raise ValueError("name an experiment, a parent run or run ids to compare")
    runs = client.search_runs(exp_ids, filter_string=filt, max_results=5000)
    return [r for r in runs if r.info.status == "FINISHED" and r.data.tags.get("run_type") != "experiment"
            and "test_macro_f1" in r.data.metrics]


def _eval_sets(runs) -> list[str]:
    found = {k[: -len("_macro_f1")] for r in runs for k in r.data.metrics if k.endswith("_macro_f1")}
    return sorted(p for p in found if p not in _NOT_EVAL_SETS and "target_avg" not in p)


def _cell(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}" if len(values) > 1 else f"{values[0]:.3f}"


def summarize(runs) -> pd.DataFrame:
    extra = [f"{p}_{m}" for p in _eval_sets(runs) for m in ("f_avg", "macro_f1")]
    groups: dict[tuple[str, str], list] = {}
    for r in runs:
        key = (r.data.params.get("data.name", "?"), r.data.tags.get("model_kind", "?"))
        groups.setdefault(key, []).append(r)
    rows = []
    for (dataset, kind), members in sorted(groups.items()):
        row = {"dataset": dataset, "model": kind,
               "seeds": ",".join(sorted({m.data.params.get("seed", "?") for m in members}, key=str))}
        for col in [*TEST_COLUMNS, *extra]:
            row[col] = _cell([m.data.metrics[col] for m in members if col in m.data.metrics])
        for col in COST_COLUMNS:
            vals = [m.data.metrics[col] for m in members if col in m.data.metrics]
            row[col] = f"{np.mean(vals):.1f}" if vals else "-"
        row["_runs"] = [m.info.run_id for m in members]
        rows.append(row)
    df = pd.DataFrame(rows)
    keep = [c for c in df.columns if c == "_runs" or (df[c] != "-").any()]
    return df[keep]


def _predictions(run_id: str, eval_set: str) -> pd.DataFrame:
    local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=f"eval/predictions_{eval_set}.csv")
    return pd.read_csv(local)


def paired_bootstrap(runs_a: list[str], runs_b: list[str], metric: str = "macro_f1", n: int = 2000,
                     seed: int = 0, eval_set: str = "test") -> tuple[float, float, float, int]:
    """Difference of `metric` (macro_f1 or f_avg) between two groups of runs on the same statements."""
    return bootstrap.paired([_predictions(r, eval_set) for r in runs_a], [_predictions(r, eval_set) for r in runs_b],
                            metric, n, seed)


def compare_runs(experiment: str | None = None, parent_run_id: str | None = None, run_ids: list[str] | None = None,
                 metric: str = "test_macro_f1", n_resamples: int = 2000) -> Comparison:
    runs = fetch_runs(experiment, parent_run_id, run_ids)
    if not runs:
        raise ValueError("no finished training runs found to compare")
    table = summarize(runs)
    if metric not in table.columns:
        raise ValueError(f"metric {metric!r} is not in the runs; available: {[c for c in table.columns if '_' in c]}")
    boots, errors = [], {}
    for dataset, g in table.groupby("dataset"):
        ranked = g.assign(_m=g[metric].map(lambda v: float(v.split(" ± ")[0]) if v != "-" else -1))
        ranked = ranked.sort_values("_m", ascending=False)
        if len(ranked) < 2:
            continue
        a, b = ranked.iloc[0], ranked.iloc[1]
        # The bootstrap resamples the statements of the metric's evaluation set (pooled over targets).
        eval_set = metric.split("_", 1)[0]
        short = "f_avg" if metric.endswith("f_avg") else "macro_f1"
        diff, low, high, n_items = paired_bootstrap(a["_runs"], b["_runs"], short, n_resamples, eval_set=eval_set)
        boots.append(Bootstrap(str(dataset), a["model"], b["model"], f"{eval_set} {short}", diff, low, high,
                               n_resamples, n_items))
        suffix = "" if table["dataset"].nunique() == 1 else f"_{dataset}"
        errors.update(_error_tables({a["model"]: a["_runs"][0], b["model"]: b["_runs"][0]}, suffix))
    return Comparison(table.drop(columns="_runs"), boots, metric, errors)


def _error_tables(run_ids: dict[str, str], suffix: str) -> dict[str, pd.DataFrame]:
    """Both models' labels side by side on every evaluation set they both logged predictions for."""
    from .evaluation.error_analysis import cross_model_tables

    client = mlflow.MlflowClient()
    logged = [{a.path.rsplit("/", 1)[-1] for a in client.list_artifacts(r, "eval")} for r in run_ids.values()]
    shared = sorted(set.intersection(*logged))
    out = {}
    for fname in shared:
        if not (fname.startswith("predictions_") and fname.endswith(".csv")):
            continue
        eval_set = fname[len("predictions_"):-len(".csv")]
        frames = {name: _predictions(r, eval_set) for name, r in run_ids.items()}
        labels = sorted(set().union(*(set(f["label"]) | set(f["predicted"]) for f in frames.values())))
        try:
            tables = cross_model_tables(frames, labels)
        except ValueError:
            continue  # not the same items (different splits): nothing to put side by side
        out.update({f"{t}_{eval_set}{suffix}": df for t, df in tables.items()})
    return out
