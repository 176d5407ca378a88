"""A run's headline metrics (real statements first) and its Description markdown."""
from stance.tracking.descriptions import describe_run
from stance.evaluation.summary import headline_metrics, metrics_table

DEMO_LIKE = {"train_time_s": 5.0, "dev_macro_f1": 0.9, "test_macro_f1": 0.70,
             "test_corpus_macro_f1": 0.80, "test_corpus_n": 827.0, "test_corpus_f_avg": 0.78,
             "test_realpool_macro_f1": 0.61, "test_realpool_n": 384.0, "test_realpool_accuracy": 0.66,
             "realdev_macro_f1": 0.59, "realdev_n": 303.0}


def test_headline_is_real_statements_first_authored_corpus_last():
    assert headline_metrics(DEMO_LIKE) == ["test_realpool_macro_f1", "realdev_macro_f1", "test_corpus_macro_f1"]
    assert headline_metrics({"test_macro_f1": 0.7, "dev_macro_f1": 0.8, "taskB_macro_f1": 0.3}) == \
        ["test_macro_f1", "taskB_macro_f1"]
    # Several targets (SemEval, P-Stance): the target-averaged macro-F1 belongs to the test set, it is not a set.
    assert headline_metrics({"test_macro_f1": 0.7, "test_target_avg_macro_f1": 0.6, "dev_target_avg_macro_f1": 0.5,
                             "dev_macro_f1": 0.8}) == ["test_macro_f1"]
    rows = [line.split("|")[2].strip() for line in metrics_table({"tfidf": DEMO_LIKE}).splitlines()[2:]]
    assert rows == ["test_realpool (n=384)", "realdev (n=303)", "test_corpus (n=827)"]


def test_description_has_the_headline_table_and_the_data_sources():
    text = describe_run("tfidf", "immigration", 13, DEMO_LIKE,
                        source="data/immigration_stance.jsonl + data/realpool_labels.jsonl",
                        split_sizes={"train": 4000, "dev": 800, "test": 1211},
                        notes=["sources used: corpus (3900 rows, weight 1), realpool (2557 rows, weight 1)"],
                        eval_sets={"realdev": "../shared/realdev/liar_immigration_dev.jsonl", "absent": "x.jsonl"})
    lines = text.splitlines()
    assert lines[0] == "**tfidf** on **immigration**, seed 13"
    table = [line for line in lines if line.startswith("| ")]
    assert [c.strip() for c in table[0].strip("|").split("|")] == ["evaluation set", "statements", "macro-F1",
                                                                   "F_avg", "accuracy"]
    assert [c.strip() for c in table[1].strip("|").split("|")] == ["test_realpool", "384", "0.610", "-", "0.660"]
    assert table[2].startswith("| realdev (evaluation only) | 303 ") and "0.590" in table[2]
    assert table[3].startswith("| test_corpus ") and "| 827 " in table[3] and "0.800" in table[3]
    assert "- trained on: `data/immigration_stance.jsonl + data/realpool_labels.jsonl` (train 4,000 · dev 800 · " \
           "test 1,211 statements)" in lines
    assert "- evaluation only: realdev (`../shared/realdev/liar_immigration_dev.jsonl`)" in lines
    assert not any("absent" in line for line in lines)  # an evaluation set that was skipped is not claimed
    assert "- sources used: corpus (3900 rows, weight 1), realpool (2557 rows, weight 1)" in lines
