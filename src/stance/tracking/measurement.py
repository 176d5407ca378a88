"""A measurement as an MLflow run: what was measured (model, data and its digest, groups, the sample's design),
the table, the figure, the sample's manifest, and a Description with the headline shares."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..evaluation.summary import markdown
from .descriptions import set_description
from .runs import log_artifact, log_metrics, log_params, log_tables, log_text, run

HEADLINE = ("ppi", "adjusted", "cc")  # the best method a row has, first


def describe(table: pd.DataFrame, params: dict, notes: list[str]) -> str:
    """Markdown: per label, the whole collection's share by every method (the `all` group, or the only one)."""
    overall = table[(table["group"] == "all") & table["period"].isna()]
    rows = []
    for label, part in overall.groupby("label", sort=False):
        by_method = part.set_index("method")
        cells = []
        for m in ("cc", "adjusted", "ppi", "classical"):
            if m not in by_method.index:
                cells.append("-")
                continue
            r = by_method.loc[m]
            ci = "" if pd.isna(r["ci_low"]) else f" [{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
            cells.append(f"{r['estimate']:.3f}{ci}")
        rows.append([label, *cells])
    n = int(overall["n"].max()) if len(overall) else 0
    lines = [f"**measurement** of `{params.get('data')}` ({n:,} statements) with `{params.get('model') or 'scores'}`"
             f"{', by ' + params['by'] if params.get('by') else ''}", ""]
    if rows:
        lines += [markdown(rows, ["label", "cc (biased)", "adjusted", "ppi", "classical (labels only)"]), ""]
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def log_measurement(experiment: str, params: dict, table: pd.DataFrame, files: list[Path | None],
                    manifest: dict | None, notes: list[str]) -> str:
    with run(experiment, tags={"run_type": "measurement"}, run_name=f"measure {Path(str(params['data'])).name}") \
            as active:
        log_params(params)
        overall = table[(table["group"] == "all") & table["period"].isna() & table["estimate"].notna()]
        log_metrics({f"{r.method}_{r.label.lower()}": float(r.estimate) for r in overall.itertuples()})
        log_tables({"shares": table}, "measurement")
        for f in files:
            if f is not None:
                log_artifact(f, "measurement")
        if manifest is not None:
            log_text(json.dumps(manifest, indent=1), "measurement/sample_manifest.json")
        set_description(describe(table, params, notes))
        return active.info.run_id
