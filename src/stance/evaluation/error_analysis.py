"""Where a model goes wrong: metrics per genre / speaker role, and two models side by side on the same items.

Works on prediction frames (scoring.predictions_frame: the data's columns plus predicted, confidence,
p_<label>), so it serves fresh evaluations and the predictions files earlier runs logged alike.
"""
from __future__ import annotations

import pandas as pd

from .metrics import f_avg, macro_f1, score_labels

# Metadata columns worth slicing by, when the data has them (multi-source data: source, and the labelled
# pool's origin; the bundled corpus: genre, speaker_role; the real-statement sets: party).
GROUP_COLUMNS = ("source", "origin", "genre", "speaker_role", "party")


def group_metrics(preds: pd.DataFrame, column: str, labels: list[str]) -> pd.DataFrame:
    """One row per value of `column`: n, accuracy, macro-F1, F_avg, errors; largest groups first."""
    rows = []
    for value, g in preds.groupby(preds[column].fillna("(missing)").astype(str)):
        rows.append({column: value, "n": len(g), "accuracy": float((g["label"] == g["predicted"]).mean()),
                     "macro_f1": macro_f1(g["label"], g["predicted"], labels),
                     "f_avg": f_avg(g["label"], g["predicted"], labels),
                     "errors": int((g["label"] != g["predicted"]).sum())})
    return pd.DataFrame(rows).sort_values(["n", column], ascending=[False, True]).reset_index(drop=True)


def group_tables(preds: pd.DataFrame, labels: list[str]) -> dict[str, pd.DataFrame]:
    """by_<column> tables for every metadata column present (and not entirely empty)."""
    return {f"by_{c}": group_metrics(preds, c, labels) for c in GROUP_COLUMNS
            if c in preds.columns and preds[c].notna().any()}


def _key(frames: dict[str, pd.DataFrame]) -> str:
    return "where" if all("where" in f.columns for f in frames.values()) else "text"


def side_by_side(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The items every model scored, one row each: the data's columns, then <model>_label,
    <model>_confidence and <model>_p_<label> per model. Raises if the models saw different items."""
    names = list(frames)
    key = _key(frames)
    first = frames[names[0]]
    score_cols = [c for c in first.columns if c in ("predicted", "confidence") or c.startswith("p_")]
    base = first.drop(columns=score_cols)
    for name in names:
        f = frames[name]
        if len(f) != len(first) or set(f[key]) != set(first[key]):
            raise ValueError(f"models {names[0]!r} and {name!r} were not scored on the same items")
        cols = [c for c in f.columns if c in ("predicted", "confidence") or c.startswith("p_")]
        renamed = f[[key, *cols]].rename(columns={c: f"{name}_{'label' if c == 'predicted' else c}" for c in cols})
        base = base.merge(renamed, on=key, how="left", validate="one_to_one")
    return base


def cross_model_tables(frames: dict[str, pd.DataFrame], labels: list[str]) -> dict[str, pd.DataFrame]:
    """misclassified (wrong by at least one model, with every model's label and scores), disagreements
    (the models' labels differ), and by_<column> metrics per model in one long table."""
    names = list(frames)
    both = side_by_side(frames)
    wrong_by = pd.concat([both[f"{n}_label"] != both["label"] for n in names], axis=1)
    both["wrong_by"] = [",".join(n for n, w in zip(names, row) if w) for row in wrong_by.itertuples(index=False)]
    distinct = both[[f"{n}_label" for n in names]].nunique(axis=1)
    # Most confident first: a sure mistake is the one worth reading.
    surest = both[[f"{n}_confidence" for n in names]].max(axis=1)
    both = both.assign(_s=surest).sort_values("_s", ascending=False, kind="stable").drop(columns="_s")
    tables = {"misclassified": both[wrong_by.loc[both.index].any(axis=1)].reset_index(drop=True),
              "disagreements": both[distinct.loc[both.index] > 1].reset_index(drop=True)}
    for table_name in group_tables(frames[names[0]], labels):
        column = table_name[len("by_"):]
        tables[table_name] = pd.concat([group_metrics(frames[n], column, labels).assign(model=n) for n in names],
                                       ignore_index=True)[["model", column, "n", "accuracy", "macro_f1", "f_avg",
                                                           "errors"]]
    return tables


# Where the labelled pool's statements come from (presidency documents, congressional tweets, floor debate): the
# column per-source breakdowns use first, then the corpus's genre.
SOURCE_COLUMNS = ("origin", "source", "genre")
TOP_ERRORS = 20


def per_source_labels(preds: pd.DataFrame, labels: list[str], name: str) -> pd.DataFrame:
    """Per source (the first SOURCE_COLUMNS present; the whole set is one source otherwise) and label: n gold,
    n predicted, precision, recall, F1, and the gold label's confusion row (how many went to each label)."""
    column = next((c for c in SOURCE_COLUMNS if c in preds.columns and preds[c].notna().any()), None)
    groups = preds.groupby(preds[column].fillna("(missing)").astype(str)) if column else [(name, preds)]
    rows = []
    for source, g in groups:
        report = score_labels(g["label"], g["predicted"], labels)
        for i, lab in enumerate(labels):
            key = lab.lower()
            rows.append({"source": source, "label": lab, "n_gold": int(report.confusion[i].sum()),
                         "n_predicted": int(report.confusion[:, i].sum()),
                         "precision": report.metrics[f"precision_{key}"], "recall": report.metrics[f"recall_{key}"],
                         "f1": report.metrics[f"f1_{key}"],
                         **{f"to_{other.lower()}": int(report.confusion[i, j]) for j, other in enumerate(labels)}})
    return pd.DataFrame(rows)


def most_confident_errors(preds: pd.DataFrame, k: int = TOP_ERRORS) -> pd.DataFrame:
    """The k wrong answers the model was surest of: the ones worth reading first."""
    wrong = preds[preds["label"] != preds["predicted"]].sort_values("confidence", ascending=False, kind="stable")
    keep = [c for c in ("id", "text", "label", "predicted", "confidence", *SOURCE_COLUMNS) if c in wrong.columns]
    return wrong[keep].head(k).reset_index(drop=True)
