"""A fitted TF-IDF + linear classifier as plain arrays and term lists, scored with numpy alone.

Why not the scikit-learn objects: `import sklearn` alone takes 1.2-2.4 s here (it imports pandas and
scipy.stats), and loading a skops file first imports every scikit-learn estimator to build skops' trusted list
(2.5-3.4 s); a one-off `stance predict` is meant to take under a second. The arrays go to a safetensors file
and the names to JSON, so a model folder holds nothing that can run code when it is read.

The features are scikit-learn's, rebuilt exactly for the one setting stance trains (tfidf.build_pipeline:
lowercase, the default token pattern, word n-grams and `char_wb` n-grams, optional sublinear tf, l2 norm per
vectorizer, the target one-hot); tests/test_tfidf.py holds them equal to the pipeline's on hostile text too.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .integrity import CorruptModelError

WEIGHTS_FILE = "weights.safetensors"  # idf of each vectorizer, the classifier's weights and intercepts
NAMES_FILE = "vocabulary.json"  # terms of each block in column order, the target categories, the classes
TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # TfidfVectorizer's default token_pattern
_TOKEN = re.compile(TOKEN_PATTERN)
_SPACES = re.compile(r"\s\s+")  # its white-space normalisation before char_wb n-grams


def word_grams(text: str, lo: int, hi: int) -> list[str]:
    """TfidfVectorizer(analyzer="word", ngram_range=(lo, hi)): lowercase, tokens, then n-grams by length."""
    tokens = _TOKEN.findall(text.lower())
    grams = list(tokens) if lo == 1 else []
    for n in range(max(lo, 2), min(hi, len(tokens)) + 1):
        grams += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return grams


def char_wb_grams(text: str, lo: int, hi: int) -> list[str]:
    """TfidfVectorizer(analyzer="char_wb"): n-grams inside each space-padded word; a word shorter than n once."""
    grams = []
    for word in _SPACES.sub(" ", text.lower()).split():
        w = f" {word} "
        for n in range(lo, hi + 1):
            grams += [w[i:i + n] for i in range(max(len(w) - n + 1, 1))]
            if len(w) <= n:
                break
    return grams


@dataclass
class Block:
    """One vectorizer: its terms in column order, their idf, and how its n-grams are cut."""
    terms: list[str]
    idf: np.ndarray
    ngrams: tuple[int, int]
    sublinear_tf: bool
    grams: object  # word_grams or char_wb_grams

    def __post_init__(self):
        self.index = {t: i for i, t in enumerate(self.terms)}

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(column indices, tf-idf values) of one text, l2-normalised like TfidfTransformer."""
        counts: dict[int, int] = {}
        for gram in self.grams(text, *self.ngrams):
            j = self.index.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        cols = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts))
        tf = np.array([counts[j] for j in cols], dtype=np.float64)
        if self.sublinear_tf:
            tf = np.log(tf) + 1.0
        values = tf * self.idf[cols]
        norm = np.sqrt(values @ values)
        return cols, (values / norm if norm > 0 else values)


@dataclass
class LinearTfidf:
    word: Block
    char: Block
    target_categories: list[str]
    classes: list[str]
    weights: np.ndarray  # (features, classes or 1 for two classes), contiguous: a row per feature
    intercept: np.ndarray

    @property
    def n_features(self) -> int:
        return len(self.word.terms) + len(self.char.terms) + len(self.target_categories)

    def feature_names(self) -> list[str]:
        """Named as the scikit-learn pipeline names them (ColumnTransformer prefixes)."""
        return ([f"word__{t}" for t in self.word.terms] + [f"char__{t}" for t in self.char.terms]
                + [f"target__target_{c}" for c in self.target_categories])

    def rows(self, texts: Sequence[str], targets: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each statement's non-zero features: (column indices, values), word block then char then target."""
        offset_char, offset_target = len(self.word.terms), len(self.word.terms) + len(self.char.terms)
        column = {c: offset_target + j for j, c in enumerate(self.target_categories)}
        out = []
        for text, target in zip(texts, targets):
            (wc, wv), (cc, cv) = self.word.row(text), self.char.row(text)
            tc = [column[target]] if target in column else []  # unseen target: no column (handle_unknown="ignore")
            out.append((np.concatenate([wc, cc + offset_char, np.array(tc, dtype=np.int64)]),
                        np.concatenate([wv, cv, np.ones(len(tc))])))
        return out

    def margins(self, texts: Sequence[str], targets: Sequence[str]) -> np.ndarray:
        """X @ W + b, (n, classes or 1)."""
        rows = self.rows(texts, targets)
        out = np.tile(self.intercept, (len(rows), 1))
        for i, (cols, values) in enumerate(rows):
            out[i] += values @ self.weights[cols]
        return out

    # ------------------------------------------------------------ files
    def save(self, path: Path) -> None:
        from safetensors.numpy import save_file

        arrays = {"word_idf": self.word.idf, "char_idf": self.char.idf, "weights": self.weights,
                  "intercept": self.intercept}
        # safetensors writes an array's memory as it lies: a strided view (LogisticRegression's intercept_ is a
        # column of its solver's matrix) would be saved as the wrong numbers.
        save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(path / WEIGHTS_FILE))
        names = {"word": self.word.terms, "char": self.char.terms, "target": self.target_categories,
                 "classes": self.classes}
        (path / NAMES_FILE).write_text(json.dumps(names, ensure_ascii=False, separators=(",", ":")),
                                       encoding="utf-8")

    @classmethod
    def load(cls, path: Path, cfg) -> "LinearTfidf":
        names, arrays = _read_names(path / NAMES_FILE), _read_arrays(path / WEIGHTS_FILE)
        word = Block(names["word"], arrays["word_idf"], tuple(cfg.word_ngrams), cfg.sublinear_tf, word_grams)
        char = Block(names["char"], arrays["char_idf"], tuple(cfg.char_ngrams), cfg.sublinear_tf, char_wb_grams)
        model = cls(word, char, names["target"], names["classes"], arrays["weights"], arrays["intercept"])
        _check_shapes(model, path)
        return model


def _read_names(file: Path) -> dict[str, list[str]]:
    try:
        names = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CorruptModelError(f"{file} is corrupt: not the model's term lists ({e})") from None
    for key in ("word", "char", "target", "classes"):
        value = names.get(key) if isinstance(names, dict) else None
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            raise CorruptModelError(f"{file} is corrupt: field {key!r} must be a list of strings")
        if len(set(value)) != len(value):
            raise CorruptModelError(f"{file} is corrupt: field {key!r} repeats an entry")
    return names


def _read_arrays(file: Path) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        arrays = load_file(str(file))
    except (OSError, SafetensorError) as e:
        raise CorruptModelError(f"{file} is corrupt: not a readable safetensors file ({e})") from None
    for key in ("word_idf", "char_idf", "weights", "intercept"):
        if key not in arrays or arrays[key].dtype != np.float64:
            raise CorruptModelError(f"{file} is corrupt: no float64 array {key!r}")
    return arrays


def _check_shapes(model: LinearTfidf, path: Path) -> None:
    """Every array must fit the names: a mismatch would index out of range or score with the wrong columns."""
    n_out = 1 if len(model.classes) == 2 else len(model.classes)
    problems = [f"{name} has {len(block.idf)} idf values for {len(block.terms)} terms"
                for name, block in (("word", model.word), ("char", model.char))
                if block.idf.shape != (len(block.terms),)]
    if model.weights.shape != (model.n_features, n_out) or model.intercept.shape != (n_out,):
        problems.append(f"weights {model.weights.shape} and intercept {model.intercept.shape} do not fit "
                        f"{model.n_features} features and {len(model.classes)} classes")
    if problems:
        raise CorruptModelError(f"{path / WEIGHTS_FILE} is corrupt: it does not fit {path / NAMES_FILE}: "
                                f"{'; '.join(problems)}")


def from_pipeline(pipe) -> LinearTfidf | None:
    """The arrays of a fitted tfidf.build_pipeline pipeline; None when its classifier is not one linear model
    (a CalibratedClassifierCV in linear_svc models saved before it was the plain SVM)."""
    features, clf = pipe.named_steps["features"], pipe.named_steps["clf"]
    if not hasattr(clf, "coef_"):
        return None
    blocks = {}
    for name, grams in (("word", word_grams), ("char", char_wb_grams)):
        vec = features.named_transformers_[name]
        vocabulary = vec.vocabulary_
        blocks[name] = Block(sorted(vocabulary, key=vocabulary.__getitem__), np.asarray(vec.idf_, dtype=np.float64),
                             tuple(vec.ngram_range), bool(vec.sublinear_tf), grams)
    categories = [str(c) for c in features.named_transformers_["target"].categories_[0]]
    return LinearTfidf(blocks["word"], blocks["char"], categories, [str(c) for c in clf.classes_],
                       np.ascontiguousarray(np.asarray(clf.coef_, dtype=np.float64).T),
                       np.ascontiguousarray(clf.intercept_, dtype=np.float64).reshape(-1))
