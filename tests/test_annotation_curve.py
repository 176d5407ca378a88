"""The annotation curve: a simulated user's own labels, by held-out folds, on the real model path."""
from __future__ import annotations

import pandas as pd

from conftest import TARGET, tiny_rows
from stance.annotation.curve import simulate
from stance.config import load_config


def test_own_labels_teach_what_the_base_model_cannot_know():
    cfg = load_config(tree={"data": {"path": "unused.jsonl"}, "model": {"kind": "tfidf", "calibration": "none"}})
    base = pd.DataFrame(tiny_rows())
    # The user's statements use words the base data never had: only their own labels can teach them.
    words = {"FAVOR": "zorblax", "AGAINST": "quintor", "NONE": "mellifer"}
    user = pd.DataFrame([{"text": f"{w} statement number {i} {w}", "label": lab, "target": TARGET}
                         for lab, w in words.items() for i in range(12)])
    result = simulate(cfg, base[base["split"] == "train"], base[base["split"] == "dev"], user, sizes=(6, 18),
                      strategies=("random", "uncertainty"), folds=3, user_weight=5, report=lambda m: None)
    s = result.scores
    assert len(s) == 3 * 2 * 3  # folds x strategies x (start, 6, 18)
    mean = result.summary.set_index(["strategy", "n_labelled"])["mean"]
    for strategy in ("random", "uncertainty"):
        assert mean[(strategy, 18)] > mean[(strategy, 0)] + 0.3
    assert (s[s["n_labelled"] == 0].groupby("fold")["macro_f1"].nunique() == 1).all()  # one start per fold
