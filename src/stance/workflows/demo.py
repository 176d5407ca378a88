"""`make demo`: train each config on the bundled corpus, compare them, and label the case studies."""
from __future__ import annotations

import json
from pathlib import Path

from .. import tracking
from ..config import load_config
from ..evaluation.summary import markdown, metrics_table
from ..prediction import predict
from .compare import compare_runs
from .promote import promote
from .training import train


def run_demo(configs: list[str], examples: str, overrides: list[str] | None = None) -> None:
    results, trained = {}, {}
    for path in configs:
        cfg = load_config(path, overrides)
        if members := cfg.model.member_refs():  # an ensemble: reuse the members this demo has just trained
            reuse = [trained.get(Path(m).resolve(), m) for m in members]
            cfg.model = cfg.model.model_copy(update={"members": reuse})
        results[cfg.model.kind] = train(cfg)
        if results[cfg.model.kind].registered:  # the name the README uses: later ad-hoc training leaves it here
            tracking.set_alias(results[cfg.model.kind].registered, tracking.DEMO_ALIAS)
        trained[Path(path).resolve()] = str(results[cfg.model.kind].model_dir)
    print()
    for kind, r in results.items():  # each config may weigh or cap its sources differently
        used = [n for n in r.data_notes if n.startswith(("sources used", "source "))]
        if used:
            print(f"Data ({kind}): " + "; ".join(used))
    print("\n## Real statements (the labelled pool's test split, realdev) and the authored corpus's test split\n")
    print(metrics_table({k: r.metrics for k, r in results.items()}))
    _print_behaviour(results)
    cases = [json.loads(line) for line in Path(examples).read_text(encoding="utf-8").splitlines() if line.strip()]
    print("\n## Case studies (Chicago v. Sessions, 2017)\n")
    for case in cases:
        print(f"{case['speaker']} (gold {case['label']}): \"{case['text']}\"")
        for kind, r in results.items():
            p = predict(case["text"], model=r.model_ref)
            scores = " ".join(f"{k}={v:.2f}" for k, v in p.scores.items())
            print(f"    {kind:<12} {p.label:<8} {scores}")
    _promote(results)
    print("\nRuns: " + ", ".join(f"{k} {r.run_id}" for k, r in results.items()))
    _compare(results)


def _compare(results: dict) -> None:
    """The comparison as a run of its own (winner, differences with bootstrap CIs): what `make ui` links first."""
    if len(results) < 2:
        return
    report = compare_runs(run_ids=[r.run_id for r in results.values()])
    print(f"Comparison run {report.log_run()}: {report.headline_sentence()}")
    print("See it in the MLflow UI: `make ui` (stance ui) prints its link first, then the runs'")


def _promote(results: dict) -> None:
    """The champion (models:/stance@champion): what `stance predict TEXT` uses when no model is named."""
    registered = [r.registered for r in results.values() if r.registered]
    if not registered:
        return
    p = promote(registered)
    print("\n## Champion\n\n" + p.account)
    print(f"\n`stance predict TEXT` now answers with {p.champion} (models:/stance@champion, a copy of {p.chosen_from})"
          if p.champion else "\n`stance predict` needs --model until a model qualifies (stance promote)")


def _print_behaviour(results: dict) -> None:
    rates = {k: {m[len("behaviour_"):-len("_pass_rate")]: v for m, v in r.metrics.items()
                 if m.startswith("behaviour_") and m.endswith("_pass_rate")} for k, r in results.items()}
    if not any(rates.values()):
        return
    caps = list(dict.fromkeys(c for r in rates.values() for c in r))
    print("\n## Behavioural suite (short, unambiguous statements kept out of training): pass rate\n")
    print(markdown([[c if c else "all", *(f"{rates[k].get(c, float('nan')):.3f}" for k in rates)]
                    for c in caps], ["capability", *rates]))
