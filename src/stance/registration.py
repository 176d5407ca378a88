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
