"""Plain-text (markdown) tables of metrics, for the terminal and the README."""
from __future__ import annotations

from typing import Sequence

import pandas as pd

COLUMNS = ("f_avg", "macro_f1", "f1_favor", "f1_against", "f1_none", "accuracy")


def markdown(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """A padded markdown table: readable as plain text and as rendered markdown."""
    cells = [[str(c) for c in r] for r in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"

    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells[1:])])


def frame_markdown(df: pd.DataFrame) -> str:
    return markdown(df.reset_index().values.tolist(), [str(df.index.name or ""), *map(str, df.columns)])


def group_tables_markdown(tables: dict[str, pd.DataFrame]) -> str:
    """The per-group tables (by_genre_test, ...) an evaluation computed, each under its name; numbers to 3
    decimals. Item lists (misclassified, disagreements) are too long for a terminal and are left out."""
    parts = []
    for name, df in tables.items():
        if name.startswith("by_") and not df.empty:
            shown = df.round(3).astype(object).where(df.notna(), "-")
            parts.append(f"{name}:\n" + markdown(shown.values.tolist(), [str(c) for c in df.columns]))
    return "\n\n".join(parts)


AUTHORED = "test_corpus"  # the bundled corpus's own test split: authored statements, so it comes last


def eval_prefixes(metrics: dict[str, float]) -> tuple[str, ...]:
    """Evaluation sets in a run's metrics, real text first: per-source test splits (test_<source>) when the run
    had several sources, else the test split; the extra evaluation sets (realdev, ...); the authored corpus last."""
    # <set>_target_avg_macro_f1 is a metric of <set> (macro-F1 per target, averaged), not an evaluation set.
    sets = [k[: -len("_macro_f1")] for k in metrics if k.endswith("_macro_f1") and "_target_avg" not in k]
    sources = [s for s in sets if s.startswith("test_") and s != AUTHORED]
    extra = [s for s in sets if s not in ("dev", "test") and not s.startswith("test_")]
    if not sources and AUTHORED not in sets:
        return ("test", *extra) if "test" in sets else tuple(extra)
    return (*sources, *extra, *([AUTHORED] if AUTHORED in sets else []))


def headline_metrics(metrics: dict[str, float]) -> list[str]:
    """The metrics a run is judged by, in the order people should read them: macro-F1 on each evaluation set,
    real statements first. Logged first and shown first in the MLflow UI."""
    return [f"{p}_macro_f1" for p in eval_prefixes(metrics) if f"{p}_macro_f1" in metrics]


def metrics_table(runs: dict[str, dict[str, float]], prefixes: tuple[str, ...] | None = None) -> str:
    """One row per (model, evaluation set): the metrics every kind logs under the same names."""
    rows = []
    if prefixes is None:
        prefixes = tuple(dict.fromkeys(p for m in runs.values() for p in eval_prefixes(m)))
    for name, m in runs.items():
        for prefix in prefixes:
            if f"{prefix}_macro_f1" not in m:
                continue
            cells = [f"{m[f'{prefix}_{c}']:.3f}" if f"{prefix}_{c}" in m else "-" for c in COLUMNS]
            rows.append([name, f"{prefix} (n={int(m.get(f'{prefix}_n', 0))})", *cells,
                         f"{m['train_time_s']:.1f}" if "train_time_s" in m else "-"])
    return markdown(rows, ["model", "eval set", *COLUMNS, "train s"])
