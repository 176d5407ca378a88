"""Assign train/dev/test (about 70/15/15) to the bundled corpus, stratified by label and grouped so that one
speaker, and statements that paraphrase each other, never straddle two splits. Deterministic (seed 13).

    python data/assign_splits.py data/immigration_stance.jsonl
"""
from __future__ import annotations

import json
import sys

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from stance.data.near_duplicates import similar_pairs

PARAPHRASE = 0.25  # word 5-gram Jaccard at which two statements count as one group (0.5 is rejected outright)


def groups(rows: list[dict]) -> list[int]:
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    first: dict[str, int] = {}
    for i, r in enumerate(rows):
        union(i, first.setdefault(r["speaker"], i))
    for i, j, _ in similar_pairs([r["text"] for r in rows], PARAPHRASE):
        union(i, j)
    return [find(i) for i in range(len(rows))]


def main(path: str) -> None:
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    folds = StratifiedGroupKFold(n_splits=20, shuffle=True, random_state=13)
    y, g = np.array([r["label"] for r in rows]), np.array(groups(rows))
    for k, (_, idx) in enumerate(folds.split(np.zeros(len(rows)), y, g)):
        for i in idx:
            rows[i]["split"] = "test" if k < 3 else "dev" if k < 6 else "train"
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts = {s: sum(r["split"] == s for r in rows) for s in ("train", "dev", "test")}
    print(f"{path}: {len(rows)} rows, {counts}")


if __name__ == "__main__":
    main(sys.argv[1])
