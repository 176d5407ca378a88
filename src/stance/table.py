"""Plain-text tables of metrics, for the terminal and the README."""
from __future__ import annotations

COLUMNS = ("f_avg", "macro_f1", "f1_favor", "f1_against", "f1_none", "accuracy")


def metrics_table(runs: dict[str, dict[str, float]], prefixes: tuple[str, ...] = ("test", "realdev")) -> str:
    """One row per (model, evaluation set): the metrics every kind logs under the same names."""
    header = ["model", "eval set", *COLUMNS, "train s"]
    rows = []
    for name, m in runs.items():
        for prefix in prefixes:
            if f"{prefix}_macro_f1" not in m:
                continue
            cells = [f"{m[f'{prefix}_{c}']:.3f}" if f"{prefix}_{c}" in m else "-" for c in COLUMNS]
            rows.append([name, f"{prefix} (n={int(m.get(f'{prefix}_n', 0))})", *cells,
                         f"{m['train_time_s']:.1f}" if "train_time_s" in m else "-"])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])
