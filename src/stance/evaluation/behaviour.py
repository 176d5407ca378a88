"""Behavioural tests (CheckList, Ribeiro et al., ACL 2020): short authored statements, each checking one
capability (plain cases per label, negation, "should not be punished for", attribution, the target named by
its synonyms, on-topic words without a stance), scored as pass rates per capability.

Pure functions on lists and dicts. A caller predicts the suite's texts with any model and hands the labels to
pass_rates; nothing here imports a model, MLflow or stance.models, so the suite can be checked anywhere.
The suite is evaluation only: no data config names data/behaviour/, and tests/test_behaviour.py fails if a
suite statement (or a near copy) is in the corpus, the case studies or the real pool and realdev.
"""
from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import DataError
from .summary import markdown

LABELS = ("FAVOR", "AGAINST", "NONE")
CAPABILITIES = ("mft_plain", "negation", "no_punishment", "attribution", "synonyms", "none_topical")
FIELDS = ("id", "text", "label", "capability")
# Relative to the repo root, like every data path in configs/ and the CLI's --examples default: the project
# resolves data paths against the working directory, the checkout, rather than against the package.
SUITE_PATH = Path("data") / "behaviour" / "suite.jsonl"

_WORD = re.compile(r"[a-z0-9']+")


def load_suite(path: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """The suite's items in file order; a DataError names the file, line and field of every bad line."""
    p = Path(path) if path is not None else SUITE_PATH
    if not p.is_file():
        raise DataError(f"behavioural suite not found: {p} (run from the repo root or pass its path)")
    items, problems = [], []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{p} line {n}: invalid JSON ({e.msg} at column {e.colno})")
            continue
        found = _item_problems(obj)
        problems += [f"{p} line {n}: {why}" for why in found]
        if not found:
            items.append({k: obj[k] for k in FIELDS})
    problems += _repeats(p, items)
    if not items and not problems:
        problems.append(f"{p}: the file holds no items")
    if problems:
        raise DataError(problems)
    return items


def _item_problems(obj: Any) -> list[str]:
    """What is wrong with one parsed line, each naming its field; [] for a valid item."""
    if not isinstance(obj, dict):
        return [f"expected a JSON object, got {type(obj).__name__}"]
    problems = [f"field {f!r} is missing" for f in FIELDS if f not in obj]
    for f in ("id", "text"):
        if f in obj and (not isinstance(obj[f], str) or not obj[f].strip()):
            problems.append(f"field {f!r} must be a non-empty string (got {obj[f]!r})")
    if "label" in obj and obj["label"] not in LABELS:
        problems.append(f"field 'label' is {obj['label']!r}; expected one of {', '.join(LABELS)}")
    if "capability" in obj and obj["capability"] not in CAPABILITIES:
        problems.append(f"field 'capability' is {obj['capability']!r}; expected one of {', '.join(CAPABILITIES)}")
    unknown = sorted(set(obj) - set(FIELDS))
    if unknown:
        # A stray key is usually a misspelt field (e.g. "lable"), which would otherwise also read as missing.
        problems.append(f"unknown field(s) {', '.join(map(repr, unknown))}; expected {', '.join(FIELDS)}")
    return problems


def _repeats(path: Path, items: list[dict[str, Any]]) -> list[str]:
    """A repeated id would merge two items in any report keyed by id; a repeated text scores one case twice."""
    problems = []
    for field, key in (("id", str), ("text", normalise)):
        seen = Counter(key(it[field]) for it in items)
        problems += [f"{path}: field {field!r} repeats {v!r}" for v, k in seen.items() if k > 1]
    return problems


def normalise(text: str) -> str:
    """Lowercased, whitespace collapsed: the form in which two statements count as the same text."""
    return " ".join(text.lower().split())


def pass_rates(suite: Sequence[dict[str, Any]], predicted: Sequence[str]) -> dict[str, Any]:
    """Pass rate per capability and overall, and per gold label how many items passed of how many.

    An item passes when the predicted label equals its gold label. Returns {"overall": {n, passed, rate},
    "capabilities": {cap: {n, passed, rate}}, "labels": {label: {n, passed}}}; capabilities keep suite order.
    """
    if len(suite) != len(predicted):
        raise ValueError(f"{len(predicted)} predicted labels for {len(suite)} suite items")
    caps: dict[str, list[int]] = {}
    labels: dict[str, list[int]] = {label: [0, 0] for label in LABELS}
    for item, guess in zip(suite, predicted):
        hit = int(guess == item["label"])
        for counts in (caps.setdefault(item["capability"], [0, 0]), labels.setdefault(item["label"], [0, 0])):
            counts[0] += 1
            counts[1] += hit
    total = [len(suite), sum(c[1] for c in caps.values())]
    return {"overall": _rate(total),
            "capabilities": {cap: _rate(c) for cap, c in caps.items()},
            "labels": {label: {"n": n, "passed": p} for label, (n, p) in labels.items()}}


def _rate(counts: Sequence[int]) -> dict[str, Any]:
    n, passed = counts
    # An empty suite has no rate rather than a rate of 0, which would read as "failed everything".
    return {"n": n, "passed": passed, "rate": passed / n if n else None}


def format_table(results: dict[str, dict[str, Any]]) -> str:
    """One aligned markdown table of pass rates: a row per capability and "all", a column per model.

    `results` maps a model's name to what pass_rates returned for it; a cell reads "0.950 (57/60)".
    """
    names = list(results)
    caps = list(dict.fromkeys(c for r in results.values() for c in r["capabilities"]))
    rows = []
    for cap in caps:
        rows.append([cap, *(_cell(results[m]["capabilities"].get(cap)) for m in names)])
    rows.append(["all", *(_cell(results[m]["overall"]) for m in names)])
    for label in LABELS:
        rows.append([f"gold {label}", *(_cell(_rate(_counts(results[m]["labels"].get(label)))) for m in names)])
    return markdown(rows, ["capability", *names])


def _counts(entry: dict[str, int] | None) -> tuple[int, int]:
    return (entry["n"], entry["passed"]) if entry else (0, 0)


def _cell(entry: dict[str, Any] | None) -> str:
    if not entry or entry["rate"] is None:
        return "-"
    return f"{entry['rate']:.3f} ({entry['passed']}/{entry['n']})"


def near_copies(suite_texts: Iterable[str], others: Iterable[str], *, jaccard: float = 0.8,
                containment: float = 0.6, n: int = 3) -> list[tuple[str, str, str]]:
    """(suite text, other text, why) for each suite text that is the same as, inside, or nearly another text.

    Three tests, because the others range from one-line statements to long speech passages: the same
    normalised text; a word-set Jaccard >= `jaccard` (a reworded copy of a short statement); and the share of
    the suite text's word n-grams found in the other >= `containment` (a sentence lifted from a paragraph).
    """
    suite = [(t, normalise(t), set(_words(t)), _grams(_words(t), n)) for t in suite_texts]
    # Which suite items hold each n-gram, so a long passage is read once rather than once per suite item.
    holders: dict[tuple[str, ...], list[int]] = {}
    for k, (_, _, _, grams) in enumerate(suite):
        for g in grams:
            holders.setdefault(g, []).append(k)
    hits = []
    for other in others:
        norm, words = normalise(other), _words(other)
        shared = Counter(k for g in _grams(words, n) for k in holders.get(g, ()))
        word_set = set(words)
        for k, (text, s_norm, s_set, s_grams) in enumerate(suite):
            if s_norm == norm:
                hits.append((text, other, "same text"))
            elif s_grams and shared[k] / len(s_grams) >= containment:
                hits.append((text, other, f"{shared[k]} of its {len(s_grams)} {n}-word runs"))
            elif _jaccard(s_set, word_set) >= jaccard:
                hits.append((text, other, f"word-set Jaccard {_jaccard(s_set, word_set):.2f}"))
    return hits


def _jaccard(a: set[str], b: set[str]) -> float:
    # Sets of very different sizes cannot reach a high Jaccard: skip the intersection for long passages.
    if not a or not b or min(len(a), len(b)) < 0.5 * max(len(a), len(b)):
        return 0.0
    return len(a & b) / len(a | b)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _grams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}
