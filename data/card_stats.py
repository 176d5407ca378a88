"""Print the data card's tables (label counts per split and per genre, lengths) from the corpus file.

    python data/card_stats.py data/immigration_stance.jsonl
"""
from __future__ import annotations

import json
import sys

import pandas as pd

from stance.table import frame_markdown


def main(path: str) -> None:
    df = pd.DataFrame([json.loads(line) for line in open(path, encoding="utf-8") if line.strip()])
    df["words"] = df["text"].str.split().str.len()
    order = ["FAVOR", "AGAINST", "NONE"]

    def table(key: str) -> pd.DataFrame:
        t = pd.crosstab(df[key], df["label"]).reindex(columns=order, fill_value=0)
        t["total"] = t.sum(axis=1)
        t.loc["total"] = t.sum()
        return t

    print(f"{len(df)} statements, {df['speaker'].nunique()} fictional speakers\n")
    print("### Labels per split\n")
    print(frame_markdown(table("split")))
    print("\n### Labels per genre\n")
    print(frame_markdown(table("genre")))
    print(f"\n### Length\n\nwords per statement: min {df.words.min()}, median {int(df.words.median())}, "
          f"mean {df.words.mean():.1f}, max {df.words.max()}")
    for name, row in (("shortest", df.loc[df.words.idxmin()]), ("longest", df.loc[df.words.idxmax()])):
        print(f"\n{name} ({row.words} words, {row.label}, {row.id}): {row.text}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data/immigration_stance.jsonl")
