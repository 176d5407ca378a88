"""Unlabelled pools of statements keyed by id, and labels joined to them.

The text stays where the pool is (e.g. ../shared/realpool); only ids and labels live with the labels, so
labels can be committed and shared without the statements.
"""
from __future__ import annotations

import os

import pandas as pd

from .labels import read_answers, resolve
from ..runtime.files import require_file
from .readers import LINE, DataError, read_records


def read_pool(path: str | os.PathLike, *, id_column: str = "id", text_column: str = "text",
              fmt: str = "auto", encoding: str = "utf-8") -> pd.DataFrame:
    """id, text, where and every other field of the pool file; ids must be unique and texts non-empty."""
    records = read_records(path, fmt, encoding)
    problems, seen, rows = [], {}, []
    for r in records:
        where = f"{path}:{r[LINE]}"
        rid, text = r.get(id_column), r.get(text_column)
        if rid is None or str(rid).strip() == "":
            problems.append(f"{path} line {r[LINE]}: missing '{id_column}'")
            continue
        rid = str(rid).strip()
        if rid in seen:
            problems.append(f"{path} line {r[LINE]}: id {rid!r} also on line {seen[rid]}")
            continue
        seen[rid] = r[LINE]
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{path} line {r[LINE]}, column '{text_column}': empty or missing text")
            continue
        extra = {k: v for k, v in r.items() if k not in (LINE, id_column, text_column)}
        rows.append({**extra, "id": rid, "text": text.strip(), "where": where})
    if problems:
        raise DataError(problems)
    return pd.DataFrame(rows)


def join_labels(pool: pd.DataFrame, labels_path: str | os.PathLike, labels: list[str]) -> pd.DataFrame:
    """Labelled rows: each resolved label joined to its pool text by id (an id not in the pool is an error).

    Fields of the label file (split, confidence, ...) win over pool fields of the same name; `where` names
    the label line, so an error in training points at the label the user wrote.
    """
    require_file(labels_path, "labels file", DataError)
    answers = read_answers(labels_path, labels, known_ids=pool["id"])
    resolved = resolve(answers, str(labels_path))
    if resolved.empty:
        raise DataError(f"{labels_path}: no labels")
    text = pool.drop(columns=["where"]).set_index("id")
    joined = resolved.join(text[[c for c in text.columns if c not in resolved.columns]], on="id")
    return joined.reset_index(drop=True)
