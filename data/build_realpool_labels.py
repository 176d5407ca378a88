"""Build data/realpool_labels.jsonl from the two annotators' answers and the adjudication of their disagreements.

    python data/build_realpool_labels.py --answers DIR [--pool ../shared/realpool/realpool.jsonl]
    python data/build_realpool_labels.py --stats      # the data card's tables, from the committed file

DIR holds A_*.jsonl and B_*.jsonl (one answer per line: id, label, confidence) and ADJ.jsonl (the third,
blind reading of every item the two disagreed on). The output is a stance label log (stance.data.labels):
every answer of both annotators, plus the adjudicator's answer marked "adjudicated", each carrying the
item's split. No statement text is written: the text stays in the pool.

Splits (about 72/14/14, seed 13) are grouped so that a model never meets a document, a tweet account
or a debate speech segment it was trained on: StratifiedGroupKFold(7) per source on the final labels,
fold 0 = test, fold 1 = dev.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys
from pathlib import Path

import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from stance.config import LABELS
from stance.data.labels import read_answers, resolve
from stance.data.pool import read_pool

OUT = Path(__file__).parent / "realpool_labels.jsonl"
TIME = "2026-12-02T00:00:00+00:00"  # labelling day; fixed so a rebuild gives the same file
ANNOTATORS = {"A": "annotator-a", "B": "annotator-b", "ADJ": "adjudicator"}


def group_of(row: pd.Series) -> str:
    """Document (app-<document>), tweet account, or debate speech segment (cv-<party>-<segment>)."""
    rid = row["id"]
    if rid.startswith("app-"):
        return rid.rsplit("-p", 1)[0]
    if rid.startswith("ct-"):
        return "ct-" + str(row.get("speaker") or rid)
    return rid.rsplit("-", 1)[0]


def assign_splits(frame: pd.DataFrame, seed: int = 13) -> pd.Series:
    split = pd.Series("train", index=frame.index)
    for _, part in frame.groupby("source"):
        folds = StratifiedGroupKFold(n_splits=7, shuffle=True, random_state=seed)
        for k, (_, held) in enumerate(folds.split(part, part["label"], groups=part["group"])):
            if k < 2:
                split.loc[part.index[held]] = "test" if k == 0 else "dev"
    return split


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--answers", default=None)
    ap.add_argument("--stats", action="store_true")
    ap.add_argument("--pool", default=os.environ.get("STANCE_REALPOOL", "../shared/realpool") + "/realpool.jsonl")
    args = ap.parse_args()
    pool = read_pool(args.pool)
    if args.stats:
        return stats(pool)
    if not args.answers:
        ap.error("give --answers DIR or --stats")
    lines = []
    for key, who in ANNOTATORS.items():
        files = sorted(glob.glob(f"{args.answers}/{key}_*.jsonl")) or sorted(glob.glob(f"{args.answers}/{key}.jsonl"))
        for f in files:
            for a in read_answers(f, list(LABELS), known_ids=pool["id"], default_annotator=who):
                lines.append({"id": a.id, "label": a.label, "confidence": a.confidence, "annotator": who,
                              "time": TIME, **({"adjudicated": True} if key == "ADJ" else {})})
    answers = pd.DataFrame(lines)
    both = answers[answers["annotator"] != "adjudicator"].groupby("id")["annotator"].nunique()
    if (both < 2).any() or len(both) != len(pool):
        print(f"every pool item needs both annotators: {int((both < 2).sum())} have one, "
              f"{len(pool) - len(both)} have none", file=sys.stderr)
        return 1
    tmp = OUT.with_name(".realpool_labels.tmp.jsonl")
    with open(tmp, "w", encoding="utf-8") as f:
        for rec in lines:
            f.write(json.dumps(rec) + "\n")
    final = resolve(read_answers(tmp, list(LABELS)), str(tmp))  # fails if a disagreement is not adjudicated
    final = final.merge(pool[["id", "source", "speaker"]] if "speaker" in pool else pool[["id", "source"]], on="id")
    final["group"] = final.apply(group_of, axis=1)
    split = dict(zip(final["id"], assign_splits(final)))
    with open(tmp, "w", encoding="utf-8") as f:
        for rec in lines:
            f.write(json.dumps({**rec, "split": split[rec["id"]]}) + "\n")
    tmp.replace(OUT)
    return stats(pool)


def stats(pool: pd.DataFrame) -> int:
    """Label counts per source and split, confidence, and what adjudication decided."""
    answers = read_answers(OUT, list(LABELS))
    final = resolve(answers, str(OUT)).merge(pool[["id", "source"]], on="id")
    print(pd.crosstab([final["source"], final["split"]], final["label"], margins=True).to_string())
    conf = pd.DataFrame([{"annotator": a.annotator, "confidence": a.confidence} for a in answers])
    print("\nconfidence per annotator\n" + pd.crosstab(conf["annotator"], conf["confidence"]).to_string())
    adj = final[final["where"].isin({a.where for a in answers if a.adjudicated})]
    print(f"\nadjudicated {len(adj)} items: " + ", ".join(f"{k} {v}" for k, v in adj["label"].value_counts().items()))
    print("by source: " + ", ".join(f"{k} {v}" for k, v in adj["source"].value_counts().items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
