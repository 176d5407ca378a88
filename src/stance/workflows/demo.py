"""`make demo`: train each config on the bundled corpus, compare them, and label the case studies."""
from __future__ import annotations

import json
from pathlib import Path

from ..config import load_config
from ..evaluation.summary import metrics_table
from ..prediction import predict
from .training import train


def run_demo(configs: list[str], examples: str, overrides: list[str] | None = None) -> None:
    results = {}
    for path in configs:
        cfg = load_config(path, overrides)
        results[cfg.model.kind] = train(cfg)
    print()
    for kind, r in results.items():  # each config may weigh or cap its sources differently
        used = [n for n in r.data_notes if n.startswith(("sources used", "source "))]
        if used:
            print(f"Data ({kind}): " + "; ".join(used))
    print("\n## Real statements (the labelled pool's test split, realdev) and the authored corpus's test split\n")
    print(metrics_table({k: r.metrics for k, r in results.items()}))
    cases = [json.loads(line) for line in Path(examples).read_text(encoding="utf-8").splitlines() if line.strip()]
    print("\n## Case studies (Chicago v. Sessions, 2017)\n")
    for case in cases:
        print(f"{case['speaker']} (gold {case['label']}): \"{case['text']}\"")
        for kind, r in results.items():
            p = predict(case["text"], model=r.model_ref)
            scores = " ".join(f"{k}={v:.2f}" for k, v in p.scores.items())
            print(f"    {kind:<12} {p.label:<8} {scores}")
    print("\nRuns: " + ", ".join(f"{k} {r.run_id}" for k, r in results.items()))
    print("See them side by side: `make ui` (stance ui) prints links to the runs and to their comparison")
