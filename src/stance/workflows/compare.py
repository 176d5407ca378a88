"""`stance compare`: read runs back from MLflow (through stance.tracking), summarise them over seeds, and test
the top two.

Groups runs by (dataset, model kind), reports mean ± std over seeds, and a paired bootstrap confidence
interval for the difference between the two best groups of each dataset, computed from the test
predictions every run logs (eval/predictions_test.csv), resampling statements (and averaging over seeds).
Numbers stay numbers (Comparison.table, .spread) until they are printed (Comparison.formatted).
"""
from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import tracking
from ..evaluation import bootstrap
from ..evaluation.summary import eval_prefixes, markdown

COST_COLUMNS = ["train_time_s", "model_size_mb"]
HEADLINE = "headline"  # --metric's default: the runs' first headline metric (the real pool's test macro-F1)


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


def _shown(mean: float, std: float, digits: int) -> str:
    if math.isnan(mean):
        return "-"
    return f"{mean:.{digits}f}" if math.isnan(std) else f"{mean:.{digits}f} ± {std:.{digits}f}"


@dataclass
class Comparison:
    # One row per (dataset, model): dataset, model, seeds, then each metric's mean over the group's runs (NaN: no
    # run logged it) and the mean cost columns.
    table: pd.DataFrame
    bootstraps: list[Bootstrap] = field(default_factory=list)
    metric: str = "test_macro_f1"
    # Error analysis of the two compared models (one run of each): <table>_<eval set>[_<dataset>] -> frame.
    error_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    # The metrics' standard deviation over the group's runs (NaN with fewer than two runs), aligned with `table`.
    spread: pd.DataFrame = field(default_factory=pd.DataFrame)
    # The best group against each other one, on `metric` and on `beside` (realdev where the runs have it).
    differences: list[Bootstrap] = field(default_factory=list)
    beside: str | None = None
    runs: dict[str, list[str]] = field(default_factory=dict)  # model -> its run ids
    experiment: str | None = None  # where the compared runs are: the comparison run is logged beside them

    def formatted(self) -> pd.DataFrame:
        """The table as printed and written to comparison.md/.json: "mean ± std" (3 digits), costs to 1 digit."""
        out = self.table.copy()
        for col in out.columns:
            if col in COST_COLUMNS:
                out[col] = [_shown(v, float("nan"), 1) for v in self.table[col]]
            elif col in self.spread.columns:
                out[col] = [_shown(v, s, 3) for v, s in zip(self.table[col], self.spread[col])]
        return out

    @property
    def markdown(self) -> str:
        shown = self.formatted()
        text = markdown(shown.values.tolist(), list(shown.columns))
        text += "\n\n" + self.spread_note()
        if self.bootstraps:
            text += "\n\n" + "\n".join(f"- {b.sentence()}" for b in self.bootstraps)
        return text

    def spread_note(self) -> str:
        """What ± means here, and which groups have none (one seed: no spread to show)."""
        single = [m for m, seeds in zip(self.table["model"], self.table["seeds"]) if "," not in str(seeds)]
        note = f"Headline: {self.metric}. Groups are runs of one config that differ only in their seed; ± is the " \
               "standard deviation over seeds."
        return note + (f" One seed, so no ±: {', '.join(single)}." if single else "")

    def write(self, out_dir: Path) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        md = out_dir / "comparison.md"
        md.write_text(self.markdown + "\n")
        js = out_dir / "comparison.json"
        js.write_text(json.dumps({"table": self.formatted().to_dict("records"),
                                  "bootstrap": [b.__dict__ for b in self.bootstraps]}, indent=2))
        return [md, js, self._chart(out_dir / "comparison.png")]

    def headline_sentence(self) -> str:
        """'ensemble is best: +0.015 test_realpool macro-F1 over transformer, 95% CI [-0.022, +0.052], not
        significant': the comparison run's name, so its page opens on the winner and the difference."""
        if not self.bootstraps:
            return f"{self.table['model'].iloc[0]}: one model, nothing to compare"
        b = self.bootstraps[0]
        verdict = "significant" if b.low > 0 or b.high < 0 else "not significant"
        return (f"{b.a} is best: {b.diff:+.3f} {b.metric.replace(' macro_f1', ' macro-F1')} over {b.b}, "
                f"95% CI [{b.low:+.3f}, {b.high:+.3f}], {verdict}")

    def description(self) -> str:
        """The comparison run's Description: the winner and the difference, then one row per model."""
        from ..evaluation.comparison_page import description

        return description(self)

    def log_run(self) -> str:
        """A run of its own in the compared runs' experiment: its name is the headline difference, its Description
        the side-by-side table; the table (md, json, html) and charts are its artifacts. Returns its id."""
        from ..evaluation.comparison_page import html_table, per_label_chart

        ids = [r for group in self.runs.values() for r in group]
        with tracking.run(self.experiment or "stance", tags={"run_type": "comparison",
                                                             "stance.compared_runs": ",".join(ids)},
                          run_name=self.headline_sentence()) as active:
            tracking.set_description(self.description())
            with tempfile.TemporaryDirectory(prefix="stance-compare-") as tmp:
                files = [*self.write(Path(tmp)), html_table(self, Path(tmp) / "comparison.html")]
                if (chart := per_label_chart(self, Path(tmp) / "per_label_f1.png")) is not None:
                    files.append(chart)
                tracking.log_artifacts_to(active.info.run_id, files, "comparison")
            tracking.log_tables(self.error_tables, "errors", run_id=active.info.run_id)
        return active.info.run_id

    def log_to(self, run_id: str) -> None:
        with tempfile.TemporaryDirectory(prefix="stance-compare-") as tmp:
            tracking.log_artifacts_to(run_id, self.write(Path(tmp)), "comparison")
        tracking.log_tables(self.error_tables, "errors", run_id=run_id)

    def _chart(self, path: Path) -> Path:
        from ..evaluation.plots import comparison_png

        col = self.metric
        shown = self.table[col].notna()
        rows, spread = self.table[shown], self.spread.loc[shown, col] if col in self.spread else None
        labels = [f"{d} · {m}" for d, m in zip(rows["dataset"], rows["model"])]
        stds = [0.0] * len(rows) if spread is None else spread.fillna(0.0).tolist()
        return comparison_png(labels, rows[col].tolist(), stds, f"{col} (mean ± std over seeds)", path)


# Params that differ between runs of one config: where it was kept, what fitting found, the data's sizes.
_NOT_SETTINGS = ("seed", "output_dir", "tracking.", "fit.", "data.n_")


def _settings(run) -> dict[str, str]:
    return {k: v for k, v in run.data.params.items() if not k.startswith(_NOT_SETTINGS)}


def _config_key(run) -> str:
    """The run's resolved config minus the seed: the tag training logs, else a hash of the run's config params."""
    if tag := run.data.tags.get("stance.config_hash"):
        return tag
    import hashlib

    return hashlib.sha256(json.dumps(_settings(run), sort_keys=True).encode()).hexdigest()[:16]


def _group(runs) -> dict[tuple[str, str], list]:
    """Runs grouped by (dataset, config minus seed), each group named by its model (tag model_name) and, where
    several groups share that name, by the settings that tell them apart ("tfidf C=4.0")."""
    groups: dict[tuple[str, str], list] = {}
    for r in runs:
        groups.setdefault((r.data.params.get("data.name", "?"), _config_key(r)), []).append(r)

    def model(members) -> str:  # runs from before the model_name tag: the kind
        return members[0].data.tags.get("model_name") or members[0].data.tags.get("model_kind", "?")

    named: dict[tuple[str, str], list] = {}
    for (dataset, key), members in groups.items():
        rivals = [m[0] for (d, k), m in groups.items() if d == dataset and k != key and model(m) == model(members)]
        mine = _settings(members[0])
        differ = sorted(k for k in mine.keys() | {k for r in rivals for k in _settings(r)}
                        if any(_settings(r).get(k) != mine.get(k) for r in rivals))
        label = " ".join([model(members), *(f"{k.rsplit('.', 1)[-1]}={mine.get(k, '-')}" for k in differ[:3])])
        named[(dataset, label if not rivals or differ else f"{label} {key[:6]}")] = members
    return named


def columns(runs) -> list[str]:
    """Headline first: macro-F1 on each evaluation set, real statements first (the first is the headline), then
    F_avg on each, the headline set's per-label F1, then costs."""
    merged: dict[str, float] = {k: 0.0 for r in runs for k in r.data.metrics if not k.startswith("epoch_")}
    prefixes = eval_prefixes(merged)
    head = prefixes[0] if prefixes else "test"
    return [*(f"{p}_macro_f1" for p in prefixes), *(f"{p}_f_avg" for p in prefixes), f"{head}_target_avg_macro_f1",
            *(f"{head}_f1_{lab}" for lab in ("favor", "against", "none"))]


def summarize(runs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(means, standard deviations) per (dataset, config minus seed) group; see Comparison.table and .spread.
    A group with one seed has no spread (NaN), and is printed without ±."""
    rows, spreads = [], []
    nan = float("nan")
    for (dataset, model), members in sorted(_group(runs).items()):
        row = {"dataset": dataset, "model": model, "runs": len(members),
               "seeds": ",".join(sorted({m.data.params.get("seed", "?") for m in members}, key=str))}
        spread = {}
        for col in columns(runs):
            values = [m.data.metrics[col] for m in members if col in m.data.metrics]
            row[col] = float(np.mean(values)) if values else nan
            several = len(values) > 1 and len({m.data.params.get("seed") for m in members}) > 1
            spread[col] = float(np.std(values)) if several else nan
        for col in COST_COLUMNS:
            vals = [m.data.metrics[col] for m in members if col in m.data.metrics]
            row[col] = float(np.mean(vals)) if vals else nan
        row["_runs"] = [m.info.run_id for m in members]
        rows.append(row)
        spreads.append(spread)
    df = pd.DataFrame(rows)
    keep = [c for c in df.columns if c == "_runs" or df[c].notna().any()]
    spread_df = pd.DataFrame(spreads, index=df.index)
    return df[keep], spread_df[[c for c in spread_df.columns if c in keep]]


def _beside(cols: list[str], metric: str) -> str | None:
    """The second number every comparison shows beside the headline: the next evaluation set of real statements
    (realdev in the demo), never the authored corpus."""
    rest = [c for c in cols[1:] if c.endswith("_macro_f1") and not c.startswith("test_corpus")
            and "target_avg" not in c]
    return rest[0] if metric == cols[0] and rest else None


def _test(a, b, metric: str, dataset: str, n_resamples: int) -> Bootstrap:
    """Paired bootstrap of group a minus group b on the statements of `metric`'s own evaluation set."""
    short = "f_avg" if metric.endswith("_f_avg") else "macro_f1"
    eval_set = metric.removesuffix(f"_{short}").removesuffix("_target_avg")  # pooled over targets
    diff, low, high, n_items = paired_bootstrap(a["_runs"], b["_runs"], short, n_resamples, eval_set=eval_set)
    return Bootstrap(dataset, a["model"], b["model"], f"{eval_set} {short}", diff, low, high, n_resamples, n_items)


def _predictions(run_id: str, eval_set: str) -> pd.DataFrame:
    return pd.read_csv(tracking.download_run_file(run_id, f"eval/predictions_{eval_set}.csv"))


def paired_bootstrap(runs_a: list[str], runs_b: list[str], metric: str = "macro_f1", n: int = 2000,
                     seed: int = 0, eval_set: str = "test") -> tuple[float, float, float, int]:
    """Difference of `metric` (macro_f1 or f_avg) between two groups of runs on the same statements."""
    return bootstrap.paired([_predictions(r, eval_set) for r in runs_a], [_predictions(r, eval_set) for r in runs_b],
                            metric, n, seed)


def compare_runs(experiment: str | None = None, parent_run_id: str | None = None, run_ids: list[str] | None = None,
                 metric: str = HEADLINE, n_resamples: int = 2000) -> Comparison:
    """Runs grouped by config minus seed; the two best groups of each dataset on `metric` (default: the headline,
    the first evaluation set of real statements) get a paired bootstrap on that metric's own statements."""
    runs = tracking.finished_training_runs(experiment, parent_run_id, run_ids)
    if not runs:
        raise ValueError("no finished training runs found to compare")
    table, spread = summarize(runs)
    metric = columns(runs)[0] if metric == HEADLINE else metric
    if metric not in table.columns:
        raise ValueError(f"metric {metric!r} is not in the runs; available: {[c for c in table.columns if '_' in c]}")
    beside = _beside(columns(runs), metric)
    boots, differences, errors = [], [], {}
    for dataset, g in table.groupby("dataset"):
        ranked = g.assign(_m=g[metric].fillna(-1)).sort_values("_m", ascending=False)
        if len(ranked) < 2:
            continue
        a = ranked.iloc[0]
        for i in range(1, len(ranked)):  # the winner against each other group: the top two first
            differences.append(_test(a, ranked.iloc[i], metric, str(dataset), n_resamples))
            if beside is not None and pd.notna(a[beside]) and pd.notna(ranked.iloc[i][beside]):
                differences.append(_test(a, ranked.iloc[i], beside, str(dataset), n_resamples))
        boots.append(next(d for d in differences if d.dataset == str(dataset)))
        suffix = "" if table["dataset"].nunique() == 1 else f"_{dataset}"
        b = ranked.iloc[1]
        errors.update(_error_tables({a["model"]: a["_runs"][0], b["model"]: b["_runs"][0]}, suffix))
    return Comparison(table.drop(columns="_runs"), boots, metric, errors, spread, differences, beside,
                      dict(zip(table["model"], table["_runs"])), tracking.experiment_name(runs[0].info.experiment_id))


def _error_tables(run_ids: dict[str, str], suffix: str) -> dict[str, pd.DataFrame]:
    """Both models' labels side by side on every evaluation set they both logged predictions for."""
    from ..evaluation.error_analysis import cross_model_tables

    logged = [tracking.artifact_names(r, "eval") for r in run_ids.values()]
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
