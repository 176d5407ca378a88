"""The bundled corpus: schema, size, balance, splits, near-duplicates, leakage and shortcut measures."""
import collections
import json
import sys

import pytest

from conftest import ROOT, TARGET
from stance.config import load_config
from stance.data import load_data, normalize_text
from stance.data.near_duplicates import similar_pairs

sys.path.insert(0, str(ROOT / "data"))  # data/card_stats.py: the measures the data card prints
from card_stats import metadata_majority_f1, none_on_topic_share, read_corpus, top_label_share  # noqa: E402

CORPUS = ROOT / "data" / "immigration_stance.jsonl"
CASES = ROOT / "data" / "case_studies.jsonl"
FIELDS = {"id", "text", "target", "label", "genre", "speaker_role", "speaker", "split", "rationale"}
GENRES = {"tweet", "press_release", "speech", "court_opinion", "op_ed", "news_report", "campaign_ad",
          "public_comment", "interview", "fact_check_claim"}


@pytest.fixture(scope="module")
def rows():
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_schema_and_values(rows):
    assert len(rows) >= 1500
    for r in rows:
        assert set(r) == FIELDS, r["id"]
        assert r["label"] in {"FAVOR", "AGAINST", "NONE"}, r["id"]
        assert r["target"] == TARGET and r["genre"] in GENRES and r["split"] in {"train", "dev", "test"}, r["id"]
        assert 5 <= len(r["text"].split()) <= 80, r["id"]
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({r["genre"] for r in rows}) == 10


def test_no_class_under_20_percent_overall_or_per_split(rows):
    for split in (None, "train", "dev", "test"):
        part = [r for r in rows if split is None or r["split"] == split]
        counts = collections.Counter(r["label"] for r in part)
        assert min(counts.values()) / len(part) >= 0.20, (split, counts)


def test_split_shares_near_70_15_15_and_speakers_in_one_split(rows):
    share = collections.Counter(r["split"] for r in rows)
    assert abs(share["train"] / len(rows) - 0.70) < 0.03
    assert abs(share["test"] / len(rows) - 0.15) < 0.03
    by_speaker = collections.defaultdict(set)
    for r in rows:
        by_speaker[r["speaker"]].add(r["split"])
    assert all(len(s) == 1 for s in by_speaker.values())


def test_no_near_duplicates_and_no_text_in_two_splits(rows):
    assert similar_pairs([r["text"] for r in rows], threshold=0.5) == []
    first = {}
    for r in rows:
        key = normalize_text(r["text"])
        assert key not in first, (r["id"], first.get(key))
        first[key] = r["id"]
    # Paraphrase-level similarity (>= 0.25) never crosses a split either.
    texts = [r["text"] for r in rows]
    assert all(rows[i]["split"] == rows[j]["split"] for i, j, _ in similar_pairs(texts, threshold=0.25))


def test_case_studies_stay_out_and_corpus_loads_through_pipeline():
    cfg = load_config(ROOT / "configs" / "baseline.yaml")
    assert cfg.data.exclude == "data/case_studies.jsonl"
    cfg = load_config(ROOT / "configs" / "baseline.yaml", [f"data.path={CORPUS}", f"data.exclude={CASES}"])
    data = load_data(cfg.data, cfg.seed)  # raises if a case study is in any split
    assert sum(len(df) for df in data.splits.values()) == len(CORPUS.read_text().splitlines())
    cases = [json.loads(line) for line in CASES.read_text().splitlines()]
    assert [c["label"] for c in cases] == ["AGAINST", "FAVOR", "AGAINST"]


def test_rationales_present_for_a_share_of_hard_items(rows):
    assert sum(bool(r["rationale"].strip()) for r in rows) >= 0.2 * len(rows)


# Issue 14's rules (shortcut F1 <= 0.45, NONE >= 80% on topic, no genre or role above 85% one label) were met by
# two rebalanced corpora that both scored lower on real text, so neither was adopted (data/README.md, "Shortcut
# measures"). Until one is, today's values are ceilings: the shortcuts may shrink, never grow.
ONE_SIDED_ALLOWED = {
    # genre or speaker_role -> why more than 85% of its rows may carry one label (the data card names each)
    "news_report": "the corpus's news reports report without taking a side",
    "reporter": "the corpus's reporters report without taking a side",
}


@pytest.fixture(scope="module")
def corpus():
    return read_corpus(CORPUS)


def test_genre_and_role_alone_predict_the_label_no_better_than_today(corpus):
    # Majority label per (genre, speaker_role) learnt on train, scored on test: 0.566 today.
    assert metadata_majority_f1(corpus) <= 0.57


def test_no_genre_or_role_is_one_sided_unless_the_card_explains_it(corpus):
    card = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    for key in ("genre", "speaker_role"):
        shares = top_label_share(corpus, key)
        one_sided = shares[(shares["share"] > 0.85) & ~shares.index.isin(list(ONE_SIDED_ALLOWED))]
        assert one_sided.empty, f"{key}: more than 85% one label\n{one_sided}"
    for name, reason in ONE_SIDED_ALLOWED.items():
        assert reason and f"`{name}`" in card, f"{name} is allowed to be one-sided but the data card does not say why"


def test_none_is_on_topic_no_less_than_today(corpus):
    # data/card_stats.py ON_TOPIC: the statement names immigration or its enforcement (61.0% today).
    assert none_on_topic_share(corpus) >= 0.61


def test_shortcut_measures_catch_a_planted_shortcut(corpus):
    # The measures can fail: make every NONE row an off-topic news report by a reporter, and all three trip.
    bad = corpus.copy()
    none = bad["label"] == "NONE"
    bad.loc[none, ["genre", "speaker_role"]] = ["news_report", "reporter"]
    bad.loc[none, "text"] = "I mostly fish these days."
    assert metadata_majority_f1(bad) > 0.57
    assert top_label_share(bad, "speaker_role").loc["reporter", "share"] > 0.85
    assert top_label_share(bad, "genre").loc["news_report", "share"] > 0.85
    assert none_on_topic_share(bad) < 0.61


def test_assign_splits_new_only_keeps_existing_splits_and_groups_new_rows_with_their_speaker():
    from assign_splits import assign  # data/assign_splits.py (on sys.path above)

    labels = ["FAVOR", "AGAINST", "NONE"]
    old = [{"speaker": f"old{i}", "text": f"statement {i} about item {i * 7} and case {i * 13}",
            "label": labels[i % 3], "split": ["train", "dev", "test"][i % 3]} for i in range(30)]
    new = [{"speaker": f"new{i}", "text": f"added remark {i} on topic {i * 11} for docket {i * 17}",
            "label": labels[i % 3], "split": ""} for i in range(90)]
    joiner = {"speaker": "old4", "text": "a second statement by an existing speaker", "label": "NONE", "split": ""}
    rows = [dict(r) for r in old] + new + [joiner]
    assign(rows, new_only=True)
    assert [r["split"] for r in rows[:30]] == [r["split"] for r in old]  # existing rows untouched
    assert rows[-1]["split"] == old[4]["split"]  # one speaker never straddles two splits
    assigned = collections.Counter(r["split"] for r in rows[30:-1])
    assert set(assigned) == {"train", "dev", "test"} and assigned["train"] > assigned["test"]
    again = [dict(r, split="") if i >= 30 else dict(r) for i, r in enumerate(rows)]
    assign(again, new_only=True)
    assert [r["split"] for r in again] == [r["split"] for r in rows]  # deterministic
