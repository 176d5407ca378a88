"""The comparison as a page: the comparison run's Description (winner, differences with their bootstrap
intervals, one row per model), an HTML copy of the table and a per-label bar chart.

`c` is a stance.workflows.compare.Comparison (its table, spread, metric, beside, bootstraps, differences and
runs); this floor only reads those numbers, it does not import the workflow."""
from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from ..runtime.files import atomic_write
from .summary import markdown

Comparison = Any  # stance.workflows.compare.Comparison, a floor above

LABELS = ("favor", "against", "none")


def _name(metric: str) -> str:
    """test_realpool_macro_f1 -> 'test_realpool macro-F1'."""
    return metric.replace("_macro_f1", " macro-F1").replace("_f_avg", " F_avg")


def _md(text: str) -> str:
    """Underscores in names (test_realpool, class_weight) kept as written instead of read as emphasis."""
    return text.replace("_", "\\_")


def _cell(value: float, spread: float = math.nan) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.3f}" if math.isnan(spread) else f"{value:.3f} ± {spread:.3f}"


def _difference(c: "Comparison", model: str, metric: str) -> str:
    """The winner minus `model` on `metric`, with its bootstrap 95% interval."""
    short = "f_avg" if metric.endswith("_f_avg") else "macro_f1"
    wanted = f"{metric.removesuffix('_' + short).removesuffix('_target_avg')} {short}"
    found = [d for d in c.differences if d.b == model and d.metric == wanted]
    return f"{found[0].diff:+.3f} [{found[0].low:+.3f}, {found[0].high:+.3f}]" if found else "-"


def rows(c: "Comparison", md: bool = True) -> tuple[list[list[str]], list[str]]:
    """One row per model, best first: its headline (and beside) metric, the difference to the winner with the
    95% interval, and its seeds."""
    metrics = [m for m in (c.metric, c.beside) if m]
    order = c.table.assign(_m=c.table[c.metric].fillna(-1)).sort_values("_m", ascending=False).index
    out = []
    for i in order:
        row = c.table.loc[i]
        name = _md(str(row["model"])) if md else str(row["model"])
        cells = [f"**{name}**" if md and i == order[0] else name]
        for m in metrics:
            spread = c.spread.loc[i, m] if m in c.spread.columns else math.nan
            cells += [_cell(row[m], spread), "winner" if i == order[0] else _difference(c, row["model"], m)]
        out.append([*cells, str(row["seeds"])])
    header = ["model"]
    for m in metrics:
        header += [_md(_name(m)) if md else _name(m), "winner − model [95% CI]"]
    return out, [*header, "seeds"]


def description(c: "Comparison") -> str:
    body, header = rows(c)
    lines = []
    if c.bootstraps:
        b = c.bootstraps[0]
        verdict = "significantly" if b.low > 0 else "not significantly"
        lines += [f"### Winner: {_md(b.a)}", "",
                  f"{_md(b.a)} scores {b.diff:+.3f} {_md(_name(c.metric))} over {_md(b.b)}, 95% CI "
                  f"[{b.low:+.3f}, {b.high:+.3f}]: "
                  f"{verdict} better (paired bootstrap, {b.n_resamples} resamples of the {b.n_items} statements).", ""]
    lines += [markdown(body, header), "", _md(c.spread_note()),
              "*winner − model*: the winner's score minus this model's on the same statements, with its paired "
              "bootstrap 95% interval; an interval above 0 means the winner is significantly better.",
              "", "Runs compared: " + "; ".join(f"{_md(m)}: `{', '.join(ids)}`" for m, ids in c.runs.items())]
    return "\n".join(lines) + "\n"


def html_table(c: "Comparison", path: Path) -> Path:
    body, header = rows(c, md=False)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in r) + "</tr>" for r in body)
    with atomic_write(path) as tmp:
        tmp.write_text(f"<table border=1 cellpadding=4><tr>{head}</tr>{cells}</table>\n", encoding="utf-8")
    return path


def per_label_chart(c: "Comparison", path: Path) -> Path | None:
    """Each label's F1 on the headline's evaluation set, one bar per model; None when the runs lack them."""
    from .plots import per_label_png

    prefix = c.metric.removesuffix("_macro_f1").removesuffix("_f_avg").removesuffix("_target_avg")
    cols = [f"{prefix}_f1_{lab}" for lab in LABELS]
    if not all(col in c.table.columns for col in cols):
        return None
    values = [[float(c.table.loc[i, col]) for col in cols] for i in c.table.index]
    return per_label_png(list(c.table["model"]), [lab.upper() for lab in LABELS], values,
                         f"F1 per label on {prefix}", path)
