"""Why did the model choose this label? Per-word attributions for one statement, as terminal text or HTML.

Two methods, both scoring each whitespace-separated word of the statement (positive = pushed toward
the predicted label, negative = pushed away from it):

- linear (TF-IDF): the exact decomposition of the linear model's score. For the predicted class c,
  feature j contributes x_j * (w_cj - mean_k w_kj): softmax is unchanged by adding the same number to
  every class, so only a coefficient's excess over the classes' mean moves the decision. A word n-gram's
  contribution is shared by the words it spans, a character n-gram's by the words it occurs in; the
  target one-hot and the intercept are reported apart ("target and bias"), so word scores plus that
  term add up to the class's centred score.
- occlusion (any model; the default for the transformer): drop one word, re-score, and take the fall
  in the predicted label's probability. Exact to define, model-agnostic, and it needs no gradients,
  so it works the same on quantized or bf16 inference (integrated gradients would not).
"""
from __future__ import annotations

import bisect
import html
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal, Sequence, TextIO

import numpy as np

from .. import models
from ..models.base import StanceModel
from ..models.calibrated import uncalibrated
from ..models.tfidf_linear import TOKEN_PATTERN
from ..prediction.scoring import clean_text, resolve_targets, score

Method = Literal["auto", "linear", "occlusion"]
_WORD = re.compile(r"\S+")


@dataclass
class Explanation:
    text: str
    target: str
    label: str
    scores: dict[str, float]
    method: str
    # The statement cut into words and the whitespace between them: (piece, score or None for whitespace).
    segments: list[tuple[str, float | None]]
    # Strongest features by |contribution|: (description, contribution).
    features: list[tuple[str, float]]
    other: float = 0.0  # linear: target one-hot + intercept, not attributable to a word
    unit: str = ""      # what the numbers are
    # An ensemble's members: {member: {"scores": {label: p}, "share": its part of the label's combined score}}.
    members: dict[str, dict] = field(default_factory=dict)

    @property
    def word_scores(self) -> list[tuple[str, float]]:
        return [(p, s) for p, s in self.segments if s is not None]

    def to_dict(self) -> dict:
        return {"text": self.text, "target": self.target, "label": self.label, "scores": self.scores,
                "method": self.method, "unit": self.unit, "words": self.word_scores,
                "features": self.features, "other": self.other, **({"members": self.members} if self.members else {})}


def _segments(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _WORD.finditer(text)]


def _pieces(text: str, spans: list[tuple[int, int]], scores: Sequence[float]) -> list[tuple[str, float | None]]:
    out: list[tuple[str, float | None]] = []
    pos = 0
    for (a, b), s in zip(spans, scores):
        if a > pos:
            out.append((text[pos:a], None))
        out.append((text[a:b], float(s)))
        pos = b
    if pos < len(text):
        out.append((text[pos:], None))
    return out


# ------------------------------------------------------------------ linear (TF-IDF)

def _coefficients(linear) -> np.ndarray:
    """(classes, features) coefficients; a two-class model's one row scores the second class."""
    coef = linear.weights.T
    return np.vstack([-coef[0] / 2, coef[0] / 2]) if coef.shape[0] == 1 else coef


def _linear(model: StanceModel, text: str, target: str, label: str, top: int) -> tuple[list[float], list, float]:
    base = uncalibrated(model)
    if hasattr(base, "for_target"):  # per-target: the classifier that scored this target
        base = base.for_target(target)
    linear = getattr(base, "linear", None)
    if linear is None:
        raise ValueError(f"the linear method needs a TF-IDF model with one linear classifier, not {model.kind}; "
                         f"use method='occlusion'")
    coef, classes = _coefficients(linear), linear.classes
    w = coef[classes.index(label)] - coef.mean(axis=0)
    cols, values = linear.rows([text], [target])[0]
    contrib = np.zeros(linear.n_features)
    contrib[cols] = values * w[cols]
    spans = _segments(text)
    word_scores = np.zeros(len(spans))
    named = _word_ngrams(linear.word, contrib, text, spans, word_scores)
    named += _char_ngrams(linear.char, len(linear.word.terms), contrib, text, spans, word_scores)
    other = float(contrib[len(linear.word.terms) + len(linear.char.terms):].sum()) + _bias(linear, label)
    named.sort(key=lambda f: -abs(f[1]))
    return word_scores.tolist(), named[:top], other


def _word_ngrams(block, contrib: np.ndarray, text: str, spans: list[tuple[int, int]],
                 word_scores: np.ndarray) -> list[tuple[str, float]]:
    """Word n-grams, found with the vectorizer's own token pattern and lowercasing (with positions); each
    n-gram's contribution is shared by the words it spans (added to word_scores). Returns the n-grams."""
    starts = [a for a, _ in spans]

    def owner(pos: int) -> int:  # the word holding character `pos` (tokens never span whitespace)
        return bisect.bisect_right(starts, pos) - 1

    toks = [(m.group().lower(), owner(m.start())) for m in re.finditer(TOKEN_PATTERN, text)]
    lo, hi = block.ngrams
    grams: dict[str, list[list[int]]] = {}
    for n in range(lo, hi + 1):
        for i in range(len(toks) - n + 1):
            grams.setdefault(" ".join(t for t, _ in toks[i:i + n]), []).append([o for _, o in toks[i:i + n]])
    named = []
    for gram, places in grams.items():
        j = block.index.get(gram)
        if j is None or contrib[j] == 0:
            continue
        value = contrib[j]
        named.append((f'word "{gram}"', float(value)))
        share = value / sum(len(p) for p in places)
        for p in places:
            for o in p:
                word_scores[o] += share
    return named


def _char_ngrams(block, off: int, contrib: np.ndarray, text: str, spans: list[tuple[int, int]],
                 word_scores: np.ndarray) -> list[tuple[str, float]]:
    """Character n-grams (char_wb works within whitespace-separated words): shared by occurrence."""
    per_word = [Counter(block.grams(text[a:b], *block.ngrams)) for a, b in spans]
    totals = sum(per_word, Counter())
    named = []
    for gram, count in totals.items():
        j = block.index.get(gram)
        if j is None or contrib[off + j] == 0:
            continue
        value = contrib[off + j]
        named.append((f'chars "{gram}"', float(value)))
        for i, c in enumerate(per_word):
            if gram in c:
                word_scores[i] += value * c[gram] / count
    return named


def _bias(linear, label: str) -> float:
    """The label's intercept relative to the mean intercept (0 for a two-class model's single intercept)."""
    if linear.intercept.shape[0] == len(linear.classes):
        return float(linear.intercept[linear.classes.index(label)] - linear.intercept.mean())
    return 0.0


# ------------------------------------------------------------------ occlusion (any model)

def _occlusion(model: StanceModel, text: str, target: str, label: str, top: int) -> tuple[list[float], list]:
    spans = _segments(text)
    variants = [(text[:a] + text[b:]).strip() or " " for a, b in spans]
    proba = model.predict_proba([text, *variants], [target] * (len(variants) + 1))
    k = model.labels.index(label)
    scores = (proba[0, k] - proba[1:, k]).tolist()
    ranked = sorted(((f'word "{text[a:b]}"', s) for (a, b), s in zip(spans, scores)), key=lambda f: -abs(f[1]))
    return scores, ranked[:top]


def explain(texts: str | Sequence[str], model: StanceModel, target: str | Sequence[str] | None = None,
            method: Method = "auto", top: int = 10) -> list[Explanation]:
    """Explain the model's label for each statement. method="auto": linear for TF-IDF, else occlusion.
    Statements are checked, cleaned and labelled by prediction.score, as stance.predict does (InvalidInputError)."""
    items = [texts] if isinstance(texts, str) else list(texts)
    preds = score(model, items, resolve_targets(model, target, len(items)), on_invalid="raise")
    if method == "auto":
        method = models.kind(model.kind).explain
    if method not in ("linear", "occlusion"):
        raise ValueError(f"method must be auto, linear or occlusion, got {method!r}")
    out = []
    for pred in preds:
        text, tg, label, other = clean_text(pred.text), pred.target, pred.label, 0.0
        if method == "linear":
            scores, features, other = _linear(model, text, tg, label, top)
            unit = f"contribution to the linear score of {label} (relative to the mean over labels)"
        else:
            scores, features = _occlusion(model, text, tg, label, top)
            unit = f"fall in P({label}) when the word is removed"
        out.append(Explanation(text, tg, label, pred.scores, method, _pieces(text, _segments(text), scores), features,
                               other, unit, _member_shares(model, text, tg)))
    return out


def _member_shares(model: StanceModel, text: str, target: str) -> dict[str, dict]:
    """Each member's scores and share in the decision, for a model made of members (an ensemble); else empty."""
    shares = getattr(uncalibrated(model), "shares", None)
    return shares([text], [target])[0] if shares else {}


def _member_lines(e: Explanation) -> list[str]:
    return [f"  member {name}: {m['share']:.0%} of the decision ("
            + " ".join(f"{k}={v:.2f}" for k, v in m["scores"].items()) + ")" for name, m in e.members.items()]


# ------------------------------------------------------------------ rendering

def use_color(stream: TextIO, mode: Literal["auto", "always", "never"] = "auto") -> bool:
    """auto: color only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if mode != "auto":
        return mode == "always"
    return not os.environ.get("NO_COLOR") and hasattr(stream, "isatty") and stream.isatty()


def _scale(e: Explanation) -> float:
    return max((abs(s) for _, s in e.word_scores), default=0.0) or 1.0


def render_terminal(e: Explanation, color: bool) -> str:
    """The statement with supporting words green and opposing words red (bold = strong), then the list."""
    scale = _scale(e)

    def paint(piece: str, s: float | None) -> str:
        if not color or s is None or abs(s) < 0.15 * scale:
            return piece
        code = ("32" if s > 0 else "31") if abs(s) < 0.5 * scale else ("1;32" if s > 0 else "1;31")
        return f"\033[{code}m{piece}\033[0m"

    scores = " ".join(f"{k}={v:.2f}" for k, v in e.scores.items())
    lines = [f"{e.label}  ({scores})  [{e.method}]", "  " + "".join(paint(p, s) for p, s in e.segments),
             f"  top features ({e.unit}):"]
    lines += [f"    {v:+.3f}  {name}" for name, v in e.features]
    if e.method == "linear":
        lines.append(f"    {e.other:+.3f}  (target and bias)")
    return "\n".join(lines + _member_lines(e))


def _background(s: float | None, scale: float) -> str:
    if s is None or s == 0:
        return ""
    alpha = min(abs(s) / scale, 1.0) * 0.75
    rgb = "46,160,67" if s > 0 else "207,34,46"
    return f' style="background:rgba({rgb},{alpha:.2f})" title="{s:+.4f}"'


def render_html(explanations: Sequence[Explanation], title: str = "stance explain") -> str:
    """One self-contained page (inline CSS, no scripts, every input escaped)."""
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title><style>"
             "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;line-height:1.7}"
             "section{border-top:1px solid #ddd;padding:.5rem 0}.text{font-size:1.1rem}"
             "span[title]{border-radius:3px;padding:0 1px}table{border-collapse:collapse;font-size:.9rem}"
             "td{padding:0 .8rem 0 0}.muted{color:#666;font-size:.85rem}</style></head><body>",
             f"<h1>{esc(title)}</h1><p class='muted'>green: pushed toward the label; red: pushed away; "
             "hover a word for its score</p>"]
    for e in explanations:
        scale = _scale(e)
        scores = ", ".join(f"{esc(k)} {v:.2f}" for k, v in e.scores.items())
        words = "".join(f"<span{_background(s, scale)}>{esc(p)}</span>" if s is not None else esc(p)
                        for p, s in e.segments)
        rows = "".join(f"<tr><td>{v:+.3f}</td><td>{esc(n)}</td></tr>" for n, v in e.features)
        if e.method == "linear":
            rows += f"<tr><td>{e.other:+.3f}</td><td>(target and bias)</td></tr>"
        parts.append(f"<section><p><b>{esc(e.label)}</b> ({scores}) · target: {esc(e.target)}</p>"
                     f"<p class='text'>{words}</p><p class='muted'>{esc(e.method)}: {esc(e.unit)}</p>"
                     f"<table>{rows}</table>"
                     + "".join(f"<p class='muted'>{esc(line.strip())}</p>" for line in _member_lines(e))
                     + "</section>")
    parts.append("</body></html>")
    return "\n".join(parts)
