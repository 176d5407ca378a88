"""Whether a run's model may become the registered model's newest version (`tracking.register_if`).

Pure rule logic: the caller supplies the run's metrics and the same metric of the current latest version.
"""
from __future__ import annotations

import math

from .config import RegisterRule


def refusal(rule: RegisterRule | None, metrics: dict[str, float],
            latest: tuple[str, float | None] | None) -> str | None:
    """Why the model must not be registered, or None when it may. `latest`: (version, its value of the rule's
    metric, None when that run did not log it), or None when nothing is registered yet."""
    if rule is None:
        return None
    value = metrics.get(rule.metric)
    if value is None:
        return f"the run logged no metric {rule.metric!r} (tracking.register_if.metric)"
    if math.isnan(value):
        return f"{rule.metric} is NaN"
    if rule.min is not None and value < rule.min:
        return f"{rule.metric} {value:.4f} is below the minimum {rule.min:g}"
    if rule.max_drop is not None and latest is not None and latest[1] is not None:
        version, before = latest
        if value < before - rule.max_drop:
            return (f"{rule.metric} {value:.4f} is {before - value:.4f} below version {version}'s {before:.4f} "
                    f"(max_drop {rule.max_drop:g})")
    return None


# The champion: what `stance.predict(text)` and `stance predict TEXT` use when no model is named.
CHAMPION_NAME, CHAMPION_ALIAS = "stance", "champion"
CHAMPION_METRIC = "dev_macro_f1"
BEHAVIOUR_METRIC, MIN_BEHAVIOUR = "behaviour_pass_rate", 0.90


def choose_champion(candidates: dict[str, dict[str, float]]) -> tuple[str | None, str]:
    """(the winner's name or None, a markdown account of the rule and every candidate's numbers).

    The rule: the highest dev macro-F1 among candidates that pass at least 90% of the behavioural suite (a model
    that fails more than 10% of the obvious cases is never the default, whatever its dev score). A candidate whose
    run scored no suite is not eligible either: the obvious cases were never checked."""
    rows, eligible = [], {}
    for name, m in candidates.items():
        dev, beh = m.get(CHAMPION_METRIC), m.get(BEHAVIOUR_METRIC)
        why = ("no dev macro-F1" if dev is None or math.isnan(dev) else
               "no behavioural suite score" if beh is None or math.isnan(beh) else
               f"behavioural suite {beh:.3f} < {MIN_BEHAVIOUR:.2f}" if beh < MIN_BEHAVIOUR else "")
        if not why:
            eligible[name] = dev
        rows.append(f"| {name} | {_num(dev)} | {_num(beh)} | {why or 'eligible'} |")
    winner = max(eligible, key=eligible.__getitem__) if eligible else None
    head = (f"**Champion: {winner}**, the highest dev macro-F1 among models that pass at least "
            f"{MIN_BEHAVIOUR:.0%} of the behavioural suite." if winner else
            f"**No champion**: no model passes at least {MIN_BEHAVIOUR:.0%} of the behavioural suite with a dev "
            f"macro-F1 logged.")
    table = ["| model | dev macro-F1 | behavioural suite | |", "|---|---|---|---|", *rows]
    return winner, "\n".join([head, "", *table])


def _num(x: float | None) -> str:
    return "-" if x is None or math.isnan(x) else f"{x:.3f}"
