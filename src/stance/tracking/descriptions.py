"""A run's description for the MLflow UI: its headline metrics as a small markdown table, and its data sources;
`set_description` writes it to the active run.

The UI shows it as the run's Description (the run page, and the runs list on hover); people comparing runs
read it before any chart.
"""
from __future__ import annotations

from pathlib import Path

import mlflow

from ..evaluation.summary import headline_metrics, markdown
from ..runtime.distributed import main_process_only
from ..runtime.masking import mask

_NOTE_TAG = "mlflow.note.content"  # the run's Description in the UI
_NOTE_MAX = 8000  # MLflow's limit on a run tag's value


# Overrides that say where a run is kept, not what it is: in its tag and Description, not in its name.
_NOT_NAMED = ("tracking.", "output_dir")


def masked_overrides(overrides: tuple[str, ...]) -> tuple[str, ...]:
    """Each --set as it may be shown: a secret key's value masked (tracking.tags.api_token=***)."""
    return tuple(f"{k.strip()}={mask(v.strip(), k.strip())}" for k, _, v in (o.partition("=") for o in overrides))


def run_name(kind: str, config_path: str | None, data_name: str, seed: int, overrides: tuple[str, ...]) -> str:
    """'tfidf baseline C=4 seed=13': the kind, the config file's name, each --set shortened (last key part,
    a path's file name, at most 20 characters), and the seed; the full overrides are in the run's tag."""
    stem = Path(config_path).stem if config_path else data_name
    parts = [stem] if kind in stem else [kind, stem]
    for item in overrides:
        key, _, value = (x.strip() for x in item.partition("="))
        if key.startswith(_NOT_NAMED) or key == "seed":
            continue
        keys = key.split(".")
        named = [k for k in keys if not k.isdigit()]  # eval_sets.0.path -> eval_sets.path: which list it is
        short = ".".join(named[-2:]) if len(named) < len(keys) else keys[-1]
        value = value.rstrip("/").rsplit("/", 1)[-1]
        parts.append(f"{short}={value if len(value) <= 20 else value[:19] + '…'}")
    return " ".join([*parts, f"seed={seed}"])


def _row(prefix: str, metrics: dict[str, float], eval_only: set[str]) -> list[str]:
    def cell(name: str) -> str:
        return f"{metrics[f'{prefix}_{name}']:.3f}" if f"{prefix}_{name}" in metrics else "-"

    n = metrics.get(f"{prefix}_n")
    label = f"{prefix} (evaluation only)" if prefix in eval_only else prefix
    return [label, f"{int(n):,}" if n is not None else "-", cell("macro_f1"), cell("f_avg"), cell("accuracy")]


def describe_run(kind: str, data_name: str, seed: int, metrics: dict[str, float], *, source: str,
                 split_sizes: dict[str, int], notes: list[str] | tuple[str, ...] = (),
                 eval_sets: dict[str, str] | None = None, config: str | None = None,
                 overrides: tuple[str, ...] = ()) -> str:
    """Markdown: a title line, the headline table (real statements first), then where the data came from.

    `eval_sets` maps each extra evaluation set (never trained on) to its file; `notes` are what loading the
    data reported (sources used or skipped, how splits were made)."""
    eval_sets = eval_sets or {}
    prefixes = [k[: -len("_macro_f1")] for k in headline_metrics(metrics)]
    table = markdown([_row(p, metrics, set(eval_sets)) for p in prefixes],
                     ["evaluation set", "statements", "macro-F1", "F_avg", "accuracy"])
    splits = " · ".join(f"{s} {n:,}" for s, n in split_sizes.items())
    lines = [f"**{kind}** on **{data_name}**, seed {seed}", "", table, ""]
    if config:
        lines += [f"**Config** `{config}`" + (" with " + " ".join(f"`--set {o}`" for o in overrides)
                                              if overrides else " (no --set overrides)"), ""]
    lines += ["**Data**", "", f"- trained on: `{source}` ({splits} statements)"]
    lines += [f"- evaluation only: {name} (`{path}`)" for name, path in eval_sets.items()
              if f"{name}_macro_f1" in metrics]
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def version_description(run_id: str, run_label: str, config: str, overrides: tuple[str, ...], data_digest: str,
                        metrics: dict[str, float]) -> str:
    """A registered version's description: which run, config and data made it, and its headline metrics."""
    numbers = ", ".join(f"{k.removesuffix('_macro_f1')} {metrics[k]:.3f}" for k in headline_metrics(metrics))
    sets = " ".join(f"`--set {o}`" for o in overrides) or "no --set overrides"
    return (f"Run {run_label} (`{run_id}`). Config `{config}`, {sets}. Data digest `{data_digest}`. "
            f"Macro-F1: {numbers or 'none logged'}.")


@main_process_only
def set_description(markdown_text: str) -> None:
    mlflow.set_tag(_NOTE_TAG, mask(markdown_text)[:_NOTE_MAX])  # data paths may be URIs with passwords
