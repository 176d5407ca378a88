"""`stance annotate`: selection strategies, batches, terminal labelling, import, agreement, tracking."""
from __future__ import annotations

import io
import json

import mlflow
import numpy as np
import pytest

from conftest import AGAINST, FAVOR, NONE, write_jsonl
from stance.annotation.selection import select
from stance.annotation.session import Item, run_session
from stance.cli import main
from stance.data import DataError
from stance.data.labels import LabelLog, read_answers, resolve


@pytest.fixture
def tfidf_model_dir(tmp_path):
    from conftest import save_tiny_tfidf

    return save_tiny_tfidf(tmp_path / "model")


@pytest.fixture
def pool(tmp_path):
    texts = FAVOR + AGAINST + NONE + ["Immigration was discussed.", "A statement about the border and the city."]
    return write_jsonl(tmp_path / "pool.jsonl", [{"id": f"p{i}", "text": t} for i, t in enumerate(texts)])


# ------------------------------------------------------------------ selection

def test_strategies_rank_as_defined():
    proba = np.array([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25], [0.5, 0.5, 0.0], [0.34, 0.33, 0.33]])
    assert list(select(proba, 2, "uncertainty")) == [3, 1]
    assert list(select(proba, 2, "margin")) == [2, 3]
    r = select(proba, 4, "random", seed=1)
    assert sorted(r) == [0, 1, 2, 3] and list(r) == list(select(proba, 4, "random", seed=1))
    with pytest.raises(ValueError, match="unknown strategy 'best'"):
        select(proba, 2, "best")


def test_diverse_spreads_a_batch_over_clusters():
    # Ten near-copies of one hard case (most uncertain) and ten different, slightly less uncertain statements.
    texts = [f"the same hard case about sanctuary grants number {i}" for i in range(10)] + \
            ["wall funding", "dreamers daca", "detention beds", "asylum courts", "e-verify jobs",
             "refugee vetting", "287g jail", "visa overstays", "h-1b numbers", "census count"]
    proba = np.array([[0.34, 0.33, 0.33]] * 10 + [[0.40, 0.31, 0.29]] * 10)
    by_uncertainty = select(proba, 5, "uncertainty", texts=texts)
    diverse = select(proba, 5, "diverse", texts=texts, seed=0)
    assert all(i < 10 for i in by_uncertainty)              # five copies of the hard case
    assert sum(i < 10 for i in diverse) <= 2 and len(set(diverse)) == 5


# ------------------------------------------------------------------ next / import

def test_next_skips_labelled_writes_a_batch_and_tracks_a_run(tracking_uri, tmp_path, pool, tfidf_model_dir):
    labels = tmp_path / "labels.jsonl"
    LabelLog(labels, "me").add("p0", "FAVOR", 3)
    out = tmp_path / "batch.csv"
    rc = main(["annotate", "next", "--pool", str(pool), "--model", str(tfidf_model_dir), "--labels", str(labels),
               "-n", "5", "--strategy", "margin", "--out", str(out)])
    assert rc == 0
    import pandas as pd

    batch = pd.read_csv(out, keep_default_na=False)
    assert len(batch) == 5 and "p0" not in set(batch["id"])
    assert list(batch.columns) == ["id", "text", "suggestion", "FAVOR", "AGAINST", "NONE", "selection", "label",
                                   "confidence"]
    assert (batch["selection"] == "margin").all()  # carried into the label log: not a random sample (stance measure)
    assert set(batch["suggestion"]) <= {"FAVOR", "AGAINST", "NONE"} and (batch["label"] == "").all()
    runs = mlflow.search_runs(experiment_names=["stance-annotation"])
    assert len(runs) == 1 and runs.iloc[0]["params.strategy"] == "margin"
    assert runs.iloc[0]["metrics.already_labelled"] == 1 and runs.iloc[0]["metrics.selected"] == 5
    # An existing batch file is never overwritten.
    before = out.read_bytes()
    assert main(["annotate", "next", "--pool", str(pool), "--model", str(tfidf_model_dir), "--out", str(out)]) == 1
    assert out.read_bytes() == before


def test_import_names_every_bad_row_and_writes_nothing(tracking_uri, tmp_path, pool, capsys):
    labels = tmp_path / "labels.jsonl"
    LabelLog(labels, "ann").add("p1", "FAVOR", 3)
    before = labels.read_bytes()
    batch = tmp_path / "filled.csv"
    batch.write_text("id,label,confidence\np0,favor,3\nghost,FAVOR,2\np2,MAYBE,1\np3,NONE,7\n"
                     "p4,AGAINST,2\np4,NONE,2\np1,AGAINST,3\np5,,\n")
    assert main(["annotate", "import", str(batch), "--labels", str(labels), "--annotator", "ann",
                 "--pool", str(pool)]) == 2
    err = capsys.readouterr().err
    assert f"{batch} line 3: unknown id 'ghost'" in err
    assert f"{batch} line 4, id 'p2': label 'MAYBE' is not one of FAVOR, AGAINST, NONE" in err
    assert f"{batch} line 5, id 'p3': confidence '7' is not 1, 2 or 3" in err
    assert f"{batch} line 7: id 'p4' again with label NONE (line 6 says AGAINST)" in err
    assert "id 'p1' is AGAINST here but ann labelled it FAVOR before" in err
    assert labels.read_bytes() == before  # nothing written when any row is bad

    batch.write_text("id,label,confidence\np0,favor,3\np4,AGAINST,2\np1,FAVOR,3\np5,,\n")
    assert main(["annotate", "import", str(batch), "--labels", str(labels), "--annotator", "ann",
                 "--pool", str(pool)]) == 0
    assert "added 2 answers" in capsys.readouterr().out
    got = {a.id: (a.label, a.confidence) for a in read_answers(labels, ["FAVOR", "AGAINST", "NONE"])}
    assert got == {"p1": ("FAVOR", 3), "p0": ("FAVOR", 3), "p4": ("AGAINST", 2)}
    runs = mlflow.search_runs(experiment_names=["stance-annotation"])
    assert runs.iloc[0]["metrics.added"] == 2 and runs.iloc[0]["metrics.blank"] == 1


# ------------------------------------------------------------------ terminal labelling

def test_label_session_saves_each_answer_at_once_supports_undo_and_resumes(tmp_path):
    labels = tmp_path / "labels.jsonl"
    items = [Item(f"p{i}", t, "FAVOR", {"FAVOR": 0.6}) for i, t in enumerate(FAVOR[:4])]
    out = io.StringIO()
    # p0 FAVOR conf 2; p1 AGAINST (Enter = 3); undo p1; p1 NONE conf 1; skip p2; quit.
    result = run_session(items, LabelLog(labels, "me", "stance-tfidf/3"), stdin=io.StringIO("f2a\nun1sq"), stdout=out)
    assert (result.answered, result.skipped, result.undone, result.quit_early) == (3, 1, 1, True)
    assert "model suggests FAVOR" in out.getvalue() and "[2/4]" in out.getvalue()
    lines = [json.loads(x) for x in labels.read_text().splitlines()]
    assert [(x["id"], x.get("label"), x.get("undo", False)) for x in lines] == [
        ("p0", "FAVOR", False), ("p1", "AGAINST", False), ("p1", None, True), ("p1", "NONE", False)]
    assert lines[0]["confidence"] == 2 and lines[1]["confidence"] == 3 and lines[0]["model_version"] == "stance-tfidf/3"
    current = resolve(read_answers(labels, ["FAVOR", "AGAINST", "NONE"]), str(labels))
    assert dict(zip(current["id"], current["label"])) == {"p0": "FAVOR", "p1": "NONE"}


def test_adjudicated_answers_settle_a_disagreement(tmp_path):
    labels = tmp_path / "labels.jsonl"
    LabelLog(labels, "a").add("p0", "FAVOR", 3)
    LabelLog(labels, "b").add("p0", "NONE", 2)
    with pytest.raises(DataError, match="different labels and no adjudicated answer"):
        resolve(read_answers(labels, ["FAVOR", "AGAINST", "NONE"]), str(labels))
    run_session([Item("p0", "text")], LabelLog(labels, "c"), stdin=io.StringIO("n1"), stdout=io.StringIO(),
                adjudicate=True)
    final = resolve(read_answers(labels, ["FAVOR", "AGAINST", "NONE"]), str(labels))
    assert final.set_index("id").at["p0", "label"] == "NONE" and final.at[0, "n_annotators"] == 3


def test_label_command_resumes_after_the_last_answer(tmp_path, pool, monkeypatch, capsys):
    labels = tmp_path / "labels.jsonl"
    monkeypatch.setattr("sys.stdin", io.StringIO("f3"))  # one answer, then input ends (like Ctrl-D)
    assert main(["annotate", "label", "--pool", str(pool), "--labels", str(labels), "--annotator", "me"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("n3q"))
    assert main(["annotate", "label", "--pool", str(pool), "--labels", str(labels), "--annotator", "me"]) == 0
    assert "id p1" in capsys.readouterr().out  # the second session starts at the next statement
    assert [json.loads(x)["id"] for x in labels.read_text().splitlines()] == ["p0", "p1"]


# ------------------------------------------------------------------ agreement

def test_agreement_kappa_confusion_and_disagreements(tmp_path, capsys):
    a, b = LabelLog(tmp_path / "a.jsonl", "a"), LabelLog(tmp_path / "b.jsonl", "b")
    gold = ["FAVOR"] * 4 + ["AGAINST"] * 4 + ["NONE"] * 4
    other = gold[:]
    other[0], other[5] = "NONE", "NONE"
    for i, (x, y) in enumerate(zip(gold, other)):
        a.add(f"p{i}", x, 3)
        b.add(f"p{i}", y, 2)
    out = tmp_path / "dis.csv"
    assert main(["annotate", "agreement", str(a.path), str(b.path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    from sklearn.metrics import cohen_kappa_score

    assert f"Cohen's kappa {cohen_kappa_score(gold, other):.3f}" in text and "2 disagreements" in text
    assert "| A:FAVOR   | 3       | 0         | 1      |" in text
    assert out.read_text().splitlines()[1:] == ["p0,FAVOR,NONE,3,2", "p5,AGAINST,NONE,3,2"]


def test_committed_pool_labels_are_complete_adjudicated_and_grouped():
    from conftest import ROOT

    path = ROOT / "data" / "realpool_labels.jsonl"
    answers = read_answers(path, ["FAVOR", "AGAINST", "NONE"])
    final = resolve(answers, str(path))  # raises if any disagreement is not adjudicated
    assert len(final) >= 2000
    by = {}
    for x in answers:
        by.setdefault(x.id, set()).add(x.annotator)
    assert all({"annotator-a", "annotator-b"} <= s for s in by.values())
    assert set(final["split"]) == {"train", "dev", "test"}
    # Grouped: no document (app-<doc>) or debate segment (cv-<party>-<segment>) spans two splits.
    groups = final.assign(group=final["id"].map(lambda i: i.rsplit("-p", 1)[0] if i.startswith("app-")
                                                  else i.rsplit("-", 1)[0] if i.startswith("cv-") else i))
    assert groups.groupby("group")["split"].nunique().max() == 1


# ------------------------------------------------------------------ one scoring path (issue 28)

def test_annotate_suggests_what_predict_says_and_refuses_what_it_refuses(tmp_path, tfidf_model_dir):
    """next_batch and session_items score through prediction.score, as stance.predict does: the same label and
    scores for every statement, and no suggestion for one predict refuses (control characters only)."""
    from stance import predict
    from stance.workflows.annotate import next_batch, session_items

    refused = "\x01\x02\x03"
    texts = [FAVOR[0], AGAINST[0], NONE[0], "Immigration was\x07 discussed.", refused]
    pool = write_jsonl(tmp_path / "mixed.jsonl", [{"id": f"m{i}", "text": t} for i, t in enumerate(texts)])
    expected = dict(zip((f"m{i}" for i in range(len(texts))), predict(texts, str(tfidf_model_dir), on_invalid="mark")))
    assert not expected["m4"].valid and all(p.valid for k, p in expected.items() if k != "m4")

    items, _ = session_items(str(pool), str(tmp_path / "labels.jsonl"), "ann", model=str(tfidf_model_dir))
    got = {it.id: it for it in items}
    assert set(got) == set(expected)
    for rid, pred in expected.items():
        assert got[rid].suggestion == pred.label
        assert got[rid].scores == pred.scores

    batch = next_batch(str(pool), str(tfidf_model_dir), None, n=10, track=False)
    assert "m4" not in set(batch.frame["id"])  # it cannot be ranked by the model's uncertainty
    assert len(batch.frame) == len(texts) - 1
    for row in batch.frame.to_dict("records"):
        pred = expected[row["id"]]
        assert row["suggestion"] == pred.label
        assert all(row[lab] == pytest.approx(pred.scores[lab], abs=5e-5) for lab in pred.scores)
