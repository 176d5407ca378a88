"""Assign train/dev/test (about 70/15/15) to the bundled corpus, stratified by label and grouped so that one
speaker, and statements that paraphrase each other, never straddle two splits. Deterministic (seed 13).

    python data/assign_splits.py data/immigration_stance.jsonl            # every row afresh
    python data/assign_splits.py --new-only data/immigration_stance.jsonl  # only rows whose split is empty

--new-only keeps every existing row's split (reshuffling unchanged rows moves scores on real text by noise
alone) and assigns added rows by the same rules: a row grouped with an existing one (same speaker, or a
paraphrase) takes that row's split; the remaining groups are split 70/15/15 as above.
"""
from __future__ import annotations

import json
import sys

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from stance.data.near_duplicates import similar_pairs
from stance.runtime.files import atomic_write

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
    # Name each group by its first row: union order follows similar_pairs' order, which can vary from run to run,
    # and StratifiedGroupKFold's folds depend on the group names, so raw roots made the splits non-deterministic.
    first_row: dict[int, int] = {}
    return [first_row.setdefault(find(i), i) for i in range(len(rows))]


def fold_split(k: int) -> str:
    return "test" if k < 3 else "dev" if k < 6 else "train"


def assign(rows: list[dict], new_only: bool = False) -> None:
    g = groups(rows)
    todo = [i for i, r in enumerate(rows) if not (new_only and r.get("split"))]
    if new_only:
        kept = {g[i]: r["split"] for i, r in enumerate(rows) if r.get("split")}
        joined = [i for i in todo if g[i] in kept]
        for i in joined:
            rows[i]["split"] = kept[g[i]]
        todo = [i for i in todo if g[i] not in kept]
        if not todo:
            return
    folds = StratifiedGroupKFold(n_splits=20, shuffle=True, random_state=13)
    y, gg = np.array([rows[i]["label"] for i in todo]), np.array([g[i] for i in todo])
    for k, (_, idx) in enumerate(folds.split(np.zeros(len(todo)), y, gg)):
        for i in idx:
            rows[todo[i]]["split"] = fold_split(k)


def main(argv: list[str]) -> None:
    new_only = "--new-only" in argv
    path = next(a for a in argv if not a.startswith("--"))
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    assign(rows, new_only)
    # Through a temporary file renamed into place: a failure half-way never leaves the corpus truncated.
    with atomic_write(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts = {s: sum(r["split"] == s for r in rows) for s in ("train", "dev", "test")}
    print(f"{path}: {len(rows)} rows, {counts}")


if __name__ == "__main__":
    main(sys.argv[1:])
