"""Near-duplicate detection by word n-gram Jaccard similarity (used by corpus checks and split grouping)."""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Sequence

_WORD = re.compile(r"[a-z0-9']+")


def shingles(text: str, n: int = 5) -> frozenset[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return frozenset(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def similar_pairs(texts: Sequence[str], threshold: float = 0.5, n: int = 5) -> list[tuple[int, int, float]]:
    """All (i, j, jaccard) with i < j and Jaccard of word n-grams >= threshold; an inverted index keeps it fast."""
    sets = [shingles(t, n) for t in texts]
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for g in s:
            index[g].append(i)
    pairs = []
    for i, s in enumerate(sets):
        shared: dict[int, int] = defaultdict(int)
        for g in s:
            for j in index[g]:
                if j > i:
                    shared[j] += 1
        for j, inter in shared.items():
            jac = inter / len(s | sets[j])
            if jac >= threshold:
                pairs.append((i, j, jac))
    return pairs
