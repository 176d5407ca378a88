"""`stance promote` and the demo's last step: the registry alias `models:/stance@champion` on the best model.

The rule lives in registration.choose_champion (pure); this module gathers each candidate's run metrics and
registers the winner through tracking."""
from __future__ import annotations

from dataclasses import dataclass

from ..tracking.registry import CHAMPION_ALIAS, CHAMPION_NAME, choose_champion


@dataclass(frozen=True)
class Promotion:
    champion: str | None  # models:/stance/N, or None when no candidate qualified
    chosen_from: str | None  # the candidate it is a copy of (models:/stance-ensemble/1)
    account: str  # the rule and every candidate's numbers (markdown), also the version's description


def promote(refs: list[str] | None = None, tracking_uri: str | None = None) -> Promotion:
    """Make the best of `refs` (registered versions; default: the newest version of every registered model) the
    champion. Nothing changes when none qualifies."""
    from .. import tracking

    tracking.configure(tracking_uri)
    refs = refs or tracking.latest_versions(exclude=CHAMPION_NAME)
    if not refs:
        raise ValueError("no registered models to choose a champion from: train one first (stance train CONFIG)")
    metrics, sources = {}, {}
    for ref in refs:
        source, run_id = tracking.version_source(ref)
        if run_id is None:
            raise ValueError(f"{ref} is not a registered model version; give models:/NAME/VERSION or models:/NAME@ALIAS")
        metrics[ref], sources[ref] = tracking.run_metrics(run_id), (source, run_id)
    winner, account = choose_champion(metrics)
    if winner is None:
        return Promotion(None, None, account)
    source, run_id = sources[winner]
    uri = tracking.promote(source, CHAMPION_NAME, CHAMPION_ALIAS, account,
                           {"stance.chosen_from": winner, "stance.run_id": run_id,
                            "stance.rule": "best dev_macro_f1 among behaviour_pass_rate >= 0.90"})
    return Promotion(uri, winner, account)
