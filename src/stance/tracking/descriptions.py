"""A run's description for the MLflow UI: its headline metrics as a small markdown table, and its data sources;
`set_description` writes it to the active run.

The UI shows it as the run's Description (the run page, and the runs list on hover); people comparing runs
read it before any chart.
"""
from __future__ import annotations

import mlflow

from ..evaluation.summary import headline_metrics, markdown
from ..runtime.distributed import main_process_only
from ..runtime.masking import mask

_NOTE_TAG = "mlflow.note.content"  # the run's Description in the UI
_NOTE_MAX = 8000  # MLflow's limit on a run tag's value


def _row(prefix: str, metrics: dict[str, float], eval_only: set[str]) -> list[str]:
    def cell(name: str) -> str:
        return f"{metrics[f'{prefix}_{name}']:.3f}" if f"{prefix}_{name}" in metrics else "-"

    n = metrics.get(f"{prefix}_n")
    label = f"{prefix} (evaluation only)" if prefix in eval_only else prefix
    return [label, f"{int(n):,}" if n is not None else "-", cell("macro_f1"), cell("f_avg"), cell("accuracy")]


def describe_run(kind: str, data_name: str, seed: int, metrics: dict[str, float], *, source: str,
                 split_sizes: dict[str, int], notes: list[str] | tuple[str, ...] = (),
                 eval_sets: dict[str, str] | None = None) -> str:
    """Markdown: a title line, the headline table (real statements first), then where the data came from.

    `eval_sets` maps each extra evaluation set (never trained on) to its file; `notes` are what loading the
    data reported (sources used or skipped, how splits were made)."""
    eval_sets = eval_sets or {}
    prefixes = [k[: -len("_macro_f1")] for k in headline_metrics(metrics)]
    table = markdown([_row(p, metrics, set(eval_sets)) for p in prefixes],
                     ["evaluation set", "statements", "macro-F1", "F_avg", "accuracy"])
    splits = " · ".join(f"{s} {n:,}" for s, n in split_sizes.items())
    lines = [f"**{kind}** on **{data_name}**, seed {seed}", "", table, "", "**Data**", "",
             f"- trained on: `{source}` ({splits} statements)"]
    lines += [f"- evaluation only: {name} (`{path}`)" for name, path in eval_sets.items()
              if f"{name}_macro_f1" in metrics]
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


@main_process_only
def set_description(markdown_text: str) -> None:
    mlflow.set_tag(_NOTE_TAG, mask(markdown_text)[:_NOTE_MAX])  # data paths may be URIs with passwords
