"""benchmarks/setfit_all_labels.py's pair sampling (SetFit's): what the contrastive step learns from."""
import importlib.util

import pandas as pd

from conftest import ROOT

# Loaded from its file: benchmarks/ is not a package, and putting it on sys.path would shadow modules by name.
_spec = importlib.util.spec_from_file_location("setfit_all_labels", ROOT / "benchmarks" / "setfit_all_labels.py")
_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bench)
pairs = _bench.pairs


def test_pairs_join_same_labels_as_1_and_other_labels_as_0_never_a_statement_with_itself():
    df = pd.DataFrame({"text": [f"s{i}" for i in range(9)], "label": ["FAVOR", "AGAINST", "NONE"] * 3})
    label = dict(zip(df["text"], df["label"]))
    got = pairs(df, per_row=4, seed=13)
    assert len(got) == 4 * len(df) and got["score"].sum() == 2 * len(df)
    assert all((label[a] == label[b]) == (score == 1.0) for a, b, score in got.itertuples(index=False))
    assert not any(a == b for a, b in zip(got["sentence1"], got["sentence2"]))
    assert got.equals(pairs(df, per_row=4, seed=13))  # seeded
