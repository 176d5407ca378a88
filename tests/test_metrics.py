import pytest

from stance.evaluation.metrics import f_avg, score_labels

LABELS = ["FAVOR", "AGAINST", "NONE"]


def test_f_avg_is_mean_of_favor_and_against_f1():
    y = ["FAVOR", "FAVOR", "AGAINST", "AGAINST", "NONE", "NONE"]
    p = ["FAVOR", "AGAINST", "AGAINST", "AGAINST", "NONE", "FAVOR"]
    # FAVOR: P=1/2 R=1/2 F=0.5; AGAINST: P=2/3 R=1 F=0.8 -> F_avg 0.65
    assert f_avg(y, p) == pytest.approx(0.65)
    r = score_labels(y, p, LABELS)
    assert r.metrics["f_avg"] == pytest.approx(0.65)
    assert r.metrics["f1_none"] == pytest.approx(2 / 3)
    assert r.metrics["macro_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert r.metrics["accuracy"] == pytest.approx(4 / 6)
    assert r.confusion.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]


def test_per_target_breakdown_only_with_several_targets():
    y, p = ["FAVOR", "AGAINST", "FAVOR", "AGAINST"], ["FAVOR", "AGAINST", "AGAINST", "AGAINST"]
    r = score_labels(y, p, ["FAVOR", "AGAINST"], targets=["a", "a", "b", "b"])
    by = r.per_target.set_index("target")
    assert by.loc["a", "macro_f1"] == pytest.approx(1.0)
    assert by.loc["b", "f_avg"] == pytest.approx(1 / 3)  # FAVOR F1 0, AGAINST F1 2/3
    assert r.metrics["target_avg_macro_f1"] == pytest.approx((1.0 + by.loc["b", "macro_f1"]) / 2)
    assert score_labels(y, p, ["FAVOR", "AGAINST"], targets=["a"] * 4).per_target.empty


def test_metric_names_identical_for_two_label_sets():
    r = score_labels(["FAVOR", "AGAINST"], ["FAVOR", "AGAINST"], ["FAVOR", "AGAINST"])
    assert set(r.prefixed("test")) >= {"test_f_avg", "test_macro_f1", "test_f1_favor", "test_accuracy"}
