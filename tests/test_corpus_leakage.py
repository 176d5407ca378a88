"""The real dev statements are for evaluation only: none of them, or a near copy, may be in the corpus."""
import json

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from conftest import ROOT

REALDEV = ROOT.parent / "shared" / "realdev" / "liar_immigration_dev.jsonl"


@pytest.mark.skipif(not REALDEV.is_file(), reason="../shared/realdev is not present (users outside this repo lack it)")
def test_no_realdev_statement_or_near_copy_in_the_corpus():
    real = [json.loads(line)["text"] for line in REALDEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    corpus = [json.loads(line)["text"] for line in (ROOT / "data" / "immigration_stance.jsonl").read_text().splitlines()]
    joined = "\n".join(corpus)
    assert not [t for t in real if len(t) >= 30 and t[:40] in joined]
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english").fit(real + corpus)
    sim = cosine_similarity(vec.transform(corpus), vec.transform(real))
    worst = sim.max()
    i, j = divmod(int(sim.argmax()), sim.shape[1])
    # 0.66 is the closest legitimate pair today: a generic state-cost claim with its own figure and details.
    assert worst < 0.7, f"corpus statement {corpus[i]!r} is a near copy of a real dev statement (cosine {worst:.2f})"
