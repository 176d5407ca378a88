"""Print the data card's tables from the corpus file: label counts per split, genre and role, lengths, the
shortcut measures (what genre and speaker role alone predict, label shares, on-topic NONE) and label priors
per topic beside the labelled real pool's (when ../shared/realpool is present).

    python data/card_stats.py [data/immigration_stance.jsonl]

The measures are plain functions, so tests/test_corpus.py asserts the same numbers the card shows.
"""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pandas as pd

from stance.evaluation.metrics import macro_f1
from stance.evaluation.summary import frame_markdown

ORDER = ["FAVOR", "AGAINST", "NONE"]
ROOT = Path(__file__).resolve().parents[1]

# "On topic": the statement names immigration or its enforcement (any of these, case-insensitive). Real NONE
# statements are on topic (bare statistics, legal immigration, procedure, "On ..." headers); filler about
# fishing trips or school lunches is not.
ON_TOPIC = re.compile(
    r"immigra|migrant|\baliens?\b|border|deport|sanctuar|refugee|asylum|\bdaca\b|dreamer|\bdream act|\bice\b"
    r"|\bvisas?\b|citizenship|naturaliz|undocumented|illegal|detain|detention|287\s*\(g\)|e-verify|amnesty"
    r"|green card|travel ban|vetting|\bwall\b|fence|h-1b|h-2|guest[- ]worker|ms-13|\bcbp\b|uscis|customs"
    r"|unaccompanied|resettle|removals?\b|foreign[- ]born|\bdeferred action|secure communities|title 42"
    r"|mexic|homeland security|\bdhs\b",
    re.IGNORECASE)

# Topic of a statement: the first pattern that matches, in this order (else "other").
TOPICS = [
    ("sanctuary_local", r"sanctuar|detainer|287\s*\(g\)|local (police|law enforcement|jails?)|\bjails?\b"
                        r"|cooperat\w* with (ice|federal|immigration)|byrne|secure communities"),
    ("refugees_asylum", r"refugee|asylum|vetting|vetted|travel ban|muslim|syria|entry ban"),
    ("daca_deportation", r"\bdaca\b|dreamer|deport|amnesty|path(way)? to (citizenship|legal)|legali[sz]|dream act"
                         r"|removals?\b|deferred action"),
    ("border", r"border|\bwall\b|fence|barrier|apprehen|\bcbp\b|crossings?\b|crossed"),
    ("crime_costs", r"crime|criminal|murder|gang|ms-13|\bkill|cost|billion|taxpayer|welfare|benefit|drugs?\b|rape"),
    ("detention_raids", r"detention|detain|\braids?\b|separat|\bcages?\b|\bice\b|famil|children"),
    ("work_legal", r"e-verify|employer|\bjobs?\b|wages?\b|workers?\b|h-1b|h-2|visas?\b|green card|legal immigra"
                   r"|citizenship|naturaliz"),
]
_TOPIC_RES = [(name, re.compile(p, re.IGNORECASE)) for name, p in TOPICS]
TOPIC_NAMES = [name for name, _ in TOPICS] + ["other"]


def on_topic(text: str) -> bool:
    return bool(ON_TOPIC.search(text))


def topic(text: str) -> str:
    return next((name for name, pattern in _TOPIC_RES if pattern.search(text)), "other")


def read_corpus(path: str | os.PathLike = ROOT / "data" / "immigration_stance.jsonl") -> pd.DataFrame:
    return pd.DataFrame([json.loads(line) for line in open(path, encoding="utf-8") if line.strip()])


def read_realpool(pool_dir: str | None = None) -> pd.DataFrame | None:
    """The labelled real pool (text from ../shared/realpool joined to data/realpool_labels.jsonl), or None."""
    from stance.config import LABELS
    from stance.data.pool import join_labels, read_pool

    pool = Path(pool_dir or os.environ.get("STANCE_REALPOOL", ROOT.parent / "shared" / "realpool")) / "realpool.jsonl"
    if not pool.is_file():
        return None
    return join_labels(read_pool(pool), ROOT / "data" / "realpool_labels.jsonl", list(LABELS))


def metadata_majority_f1(df: pd.DataFrame) -> float:
    """Macro-F1 on the test split of predicting, for each (genre, speaker_role), the majority label of that
    pair in the train split (the overall train majority for a pair train lacks): what metadata alone teaches."""
    train, test = df[df["split"] == "train"], df[df["split"] == "test"]
    overall = train["label"].mode()[0]
    majority = train.groupby(["genre", "speaker_role"])["label"].agg(lambda s: s.value_counts().index[0])
    pred = [majority.get((g, r), overall) for g, r in zip(test["genre"], test["speaker_role"])]
    return macro_f1(test["label"], pred, ORDER)


def top_label_share(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """Per value of `key` (genre or speaker_role): rows, its most frequent label and that label's share."""
    counts = pd.crosstab(df[key], df["label"])
    return pd.DataFrame({"n": counts.sum(axis=1), "top": counts.idxmax(axis=1),
                         "share": (counts.max(axis=1) / counts.sum(axis=1)).round(3)})


def none_on_topic_share(df: pd.DataFrame) -> float:
    return float(df.loc[df["label"] == "NONE", "text"].map(on_topic).mean())


def topic_priors(df: pd.DataFrame) -> pd.DataFrame:
    """Per topic: rows and the share of each label."""
    topics = df["text"].map(topic)
    shares = pd.crosstab(topics, df["label"], normalize="index").reindex(index=TOPIC_NAMES, columns=ORDER)
    out = shares.fillna(0).round(2)
    out.insert(0, "n", topics.value_counts().reindex(TOPIC_NAMES).fillna(0).astype(int))
    out.index.name = "topic"
    return out


def main(path: str) -> None:
    df = read_corpus(path)
    df["words"] = df["text"].str.split().str.len()

    def table(key: str) -> pd.DataFrame:
        t = pd.crosstab(df[key], df["label"]).reindex(columns=ORDER, fill_value=0)
        t["total"] = t.sum(axis=1)
        t.loc["total"] = t.sum()
        return t

    print(f"{len(df)} statements, {df['speaker'].nunique()} fictional speakers\n")
    print("### Labels per split\n")
    print(frame_markdown(table("split")))
    print("\n### Labels per genre\n")
    print(frame_markdown(table("genre")))
    print("\n### Labels per speaker role\n")
    print(frame_markdown(table("speaker_role")))
    print("\n### Shortcut measures\n")
    print(f"- majority label per (genre, speaker_role), train -> test, macro-F1: {metadata_majority_f1(df):.3f}")
    for key in ("genre", "speaker_role"):
        top = top_label_share(df, key).sort_values("share", ascending=False).iloc[0]
        print(f"- most one-sided {key}: {top.name} ({top['share']:.0%} {top['top']} of {top['n']})")
    print(f"- NONE rows on topic (data/card_stats.py ON_TOPIC): {none_on_topic_share(df):.1%}")
    multi = df["text"].str.count(r"[.!?](\s|$)").gt(1).mean()
    print(f"- statements of 10 words or fewer: {df.words.le(10).mean():.0%}; multi-sentence: {multi:.0%}")
    print("\n### Label priors per topic (topic: data/card_stats.py TOPICS, first match)\n")
    real = read_realpool()
    priors = topic_priors(df)
    if real is not None:
        pool = topic_priors(real)
        priors = pd.concat([priors.add_prefix("corpus "), pool.add_prefix("pool ")], axis=1)
    else:
        print("(../shared/realpool is absent: corpus only)\n")
    print(frame_markdown(priors))
    print(f"\n### Length\n\nwords per statement: min {df.words.min()}, median {int(df.words.median())}, "
          f"mean {df.words.mean():.1f}, max {df.words.max()}")
    for name, row in (("shortest", df.loc[df.words.idxmin()]), ("longest", df.loc[df.words.idxmax()])):
        print(f"\n{name} ({row.words} words, {row.label}, {row.id}): {row.text}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "data" / "immigration_stance.jsonl"))
