"""The bundled corpus: schema, size, balance, splits, near-duplicates and leakage rules."""
import collections
import json

import pytest

from conftest import ROOT, TARGET
from stance.config import load_config
from stance.data import load_data, normalize_text
from stance.data.near_duplicates import similar_pairs

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
