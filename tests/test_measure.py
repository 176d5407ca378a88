"""`stance measure` (issue 26): the estimators where the truth is known, stratified weighting, the sampler and its
manifest, the command and the API on a real MLflow store, streaming scored files, and bad input."""
from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest

from conftest import AGAINST, FAVOR, NONE, private_store, shrunk_config, tiny_rows, write_jsonl
from stance.cli import main
from stance.data import DataError
from stance.measurement import estimators as est
from stance.measurement.collect import Collector, Sample
from stance.measurement.shares import Dev

LABELS = ["FAVOR", "AGAINST", "NONE"]


def _synthetic(rng, n_all: int, truth: list[float], accuracy: float):
    """True labels with these shares and a model right `accuracy` of the time, wrong towards FAVOR otherwise (so
    counting its labels over-counts FAVOR): probabilities peaked on the predicted label."""
    y = rng.choice(3, n_all, p=truth)
    wrong = rng.random(n_all) > accuracy
    pred = np.where(wrong, 0, y)
    proba = np.full((n_all, 3), 0.15)
    proba[np.arange(n_all), pred] = 0.7
    return y, proba


def test_where_the_truth_is_known_cc_is_biased_and_ppi_covers():
    rng = np.random.default_rng(0)
    y, proba = _synthetic(rng, 2000, [0.3, 0.3, 0.4], accuracy=0.75)
    truth = np.bincount(y, minlength=3) / len(y)
    sums = est.Sums(3).add(proba)
    assert est.cc(sums)[0] - truth[0] > 0.1  # counting over-counts FAVOR by the model's errors
    covered, widths, classical_widths, errors = np.zeros(3), [], [], []
    for _ in range(200):
        pick = rng.choice(len(y), 100, replace=False)
        sample = est.Labelled(np.eye(3)[y[pick]], proba[pick], np.zeros(100), {0: 1.0})
        p, se = est.ppi(sample, sums)
        low, high = est.interval(p, se)
        covered += (low <= truth) & (truth <= high)
        widths.append(high - low)
        classical_widths.append(np.subtract(*est.interval(*est.classical(sample))[::-1]))
        errors.append(p - truth)
    assert (covered / 200 >= 0.9).all(), covered / 200
    assert np.abs(np.mean(errors, 0)).max() < 0.01  # unbiased, where cc is off by more than 0.1
    assert (np.mean(widths, 0) < np.mean(classical_widths, 0)).all()


def test_power_tuning_never_trusts_a_useless_model():
    rng = np.random.default_rng(1)
    y = rng.choice(3, 300)
    proba = rng.dirichlet([1, 1, 1], 300)  # no information about y
    sums = est.Sums(3).add(proba)
    pick = rng.choice(300, 100, replace=False)
    sample = est.Labelled(np.eye(3)[y[pick]], proba[pick], np.zeros(100), {0: 1.0})
    _, tuned = est.ppi(sample, sums)
    _, plain = est.ppi(sample, sums, lam=1.0)
    _, classical = est.classical(sample)
    assert (tuned <= classical * 1.02).all() and (plain > classical).all()


def test_pacc_recovers_shares_under_a_known_confusion():
    rng = np.random.default_rng(2)
    dev_y, dev_p = _synthetic(rng, 3000, [1 / 3] * 3, accuracy=0.7)
    y, proba = _synthetic(rng, 5000, [0.2, 0.5, 0.3], accuracy=0.7)
    truth = np.bincount(y, minlength=3) / len(y)
    sums = est.Sums(3).add(proba)
    a, low, high = est.adjusted(sums, dev_p, dev_y, reps=100)
    assert np.abs(a - truth).max() < 0.03 < np.abs(est.cc(sums) - truth).max()
    assert ((low <= truth) & (truth <= high)).all()


def test_a_stratified_sample_is_weighted_by_each_stratum_s_share():
    # 900 R statements mostly FAVOR, 100 D mostly AGAINST; 50 labelled in each: unweighted, D would count half.
    rng = np.random.default_rng(3)
    party = np.array(["R"] * 900 + ["D"] * 100)
    y = np.where(party == "R", rng.choice(3, 1000, p=[0.8, 0.1, 0.1]), rng.choice(3, 1000, p=[0.1, 0.8, 0.1]))
    proba = np.full((1000, 3), 0.2)
    proba[np.arange(1000), y] = 0.6
    truth = np.bincount(y, minlength=3)[0] / 1000
    estimates = []
    for seed in range(30):
        pick = np.concatenate([np.random.default_rng(seed).choice(np.flatnonzero(party == h), 50, replace=False)
                               for h in ("R", "D")])
        c = Collector(LABELS, sample=Sample({f"i{i}": (int(y[i]), f"labels line {i}") for i in pick}, "party"))
        c.add(pd.DataFrame({"id": [f"i{i}" for i in range(1000)], "party": party}), proba,
              [f"data line {i + 1}" for i in range(1000)])
        t = c.table(None)
        estimates.append(t[(t["method"] == "classical") & (t["label"] == "FAVOR")]["estimate"].iloc[0])
    assert abs(np.mean(estimates) - truth) < 0.02  # the unweighted mean would be ~0.45


# ---------------------------------------------------------------- a real model, a real store

def _collection(tmp_path):
    """108 statements with id, party and date: the tiny corpus's texts three times over, labels known."""
    rows = []
    for rep in range(3):
        for label, texts in (("FAVOR", FAVOR), ("AGAINST", AGAINST), ("NONE", NONE)):
            for i, t in enumerate(texts):
                rows.append({"id": f"{label[0]}{rep}-{i}", "text": t if rep == 0 else f"{t} ({rep})",
                             "party": "R" if label == "FAVOR" or i % 3 == 0 else "D",
                             "date": f"2017-0{1 + rep}-1{i % 9}", "gold": label})
    return write_jsonl(tmp_path / "statements.jsonl", rows), rows


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A TF-IDF model trained and registered on the tiny corpus in a private store (its run has dev predictions)."""
    from stance import train

    tmp = tmp_path_factory.mktemp("measure")
    with private_store(tmp) as uri:
        corpus = write_jsonl(tmp / "tiny.jsonl", tiny_rows())
        result = train(shrunk_config("baseline.yaml", corpus))
        data, rows = _collection(tmp)
        yield {"tmp": tmp, "uri": uri, "model": "models:/stance-tfidf/latest", "data": data, "rows": rows,
               "run": result.run_id}


@pytest.fixture
def store(trained, monkeypatch):
    monkeypatch.chdir(trained["tmp"])
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained["uri"])
    mlflow.set_tracking_uri(trained["uri"])
    return trained


def _labels(path, rows, ids, **extra):
    gold = {r["id"]: r["gold"] for r in rows}
    return write_jsonl(path, [{"id": i, "label": gold[i], "annotator": "a", **extra} for i in ids])


def test_sample_label_measure_end_to_end(store, tmp_path, capsys):
    batch = tmp_path / "sample.csv"
    assert main(["annotate", "sample", "--data", str(store["data"]), "--n", "40", "--stratify-by", "party",
                 "--seed", "5", "--out", str(batch)]) == 0
    manifest = json.loads((tmp_path / "sample.manifest.json").read_text())
    assert manifest["design"] == "stratified" and manifest["seed"] == 5 and len(manifest["items"]) == 40
    assert sum(s["n"] for s in manifest["strata"].values()) == 40
    frame = pd.read_csv(batch)
    gold = {r["id"]: r["gold"] for r in store["rows"]}
    frame["label"] = frame["id"].map(gold)
    frame.to_csv(batch, index=False)
    labels = tmp_path / "labels.jsonl"
    assert main(["annotate", "import", str(batch), "--labels", str(labels), "--annotator", "a"]) == 0
    capsys.readouterr()
    out = tmp_path / "shares.csv"
    assert main(["measure", "--data", str(store["data"]), "--model", store["model"], "--by", "party", "--labels",
                 str(labels), "--json", "--output", str(out), "--plot", str(tmp_path / "shares.png")]) == 0
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert {"group", "period", "label", "method", "estimate", "ci_low", "ci_high", "n", "n_labelled"} <= set(rows[0])
    methods = {r["method"] for r in rows}
    assert methods == {"cc", "adjusted", "ppi", "classical"}  # dev confusion found in the training run
    whole = {(r["method"], r["label"]): r for r in rows if r["group"] == "all"}
    assert whole[("ppi", "FAVOR")]["n"] == 108 and whole[("ppi", "FAVOR")]["n_labelled"] == 40
    truth = sum(r["gold"] == "FAVOR" for r in store["rows"]) / 108
    assert whole[("ppi", "FAVOR")]["ci_low"] <= truth <= whole[("ppi", "FAVOR")]["ci_high"]
    assert "simple random" not in captured.err  # the manifest beside the batch was found
    assert len(pd.read_csv(out)) == len(rows) and (tmp_path / "shares.png").stat().st_size > 1000
    run = mlflow.get_run(captured.err.strip().split("run: ")[1].split()[0])
    assert run.data.tags["run_type"] == "measurement" and "ppi" in run.data.tags["mlflow.note.content"]
    assert run.data.params["design"] == "stratified" and run.data.params["data_digest"]
    arts = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "measurement")}
    assert {"measurement/shares.png", "measurement/sample_manifest.json", "measurement/shares.json"} <= arts


def test_active_learning_labels_are_refused_and_plain_labels_warned(store, tmp_path, capsys):
    batch, chosen = tmp_path / "next.csv", tmp_path / "al.jsonl"
    assert main(["annotate", "next", "--pool", str(store["data"]), "--model", store["model"], "-n", "10",
                 "--out", str(batch)]) == 0
    frame = pd.read_csv(batch)
    frame["label"] = frame["id"].map({r["id"]: r["gold"] for r in store["rows"]})
    frame.to_csv(batch, index=False)
    assert main(["annotate", "import", str(batch), "--labels", str(chosen), "--annotator", "a"]) == 0
    capsys.readouterr()
    assert main(["measure", "--data", str(store["data"]), "--model", store["model"], "--labels", str(chosen)]) == 2
    err = capsys.readouterr().err
    assert "field 'selection': 'uncertainty': 10 labels" in err and "chosen by active learning" in err
    ids = [r["id"] for r in store["rows"]][::4]
    plain = _labels(tmp_path / "plain.jsonl", store["rows"], ids)
    table = __import__("stance").measure(str(store["data"]), model=store["model"], labels=str(plain), track=False)
    assert {"ppi", "classical"} <= set(table["method"])
    assert "simple random sample" in table[table["method"] == "ppi"]["note"].iloc[0]


def test_api_periods_empty_groups_and_fallback(store):
    import stance

    frame = pd.DataFrame(store["rows"]).drop(columns="gold")
    frame.loc[frame["party"] == "D", "date"] = "2017-01-05"  # D speaks in January only: February, March are empty
    labels = {r["id"]: r["gold"] for r in store["rows"] if r["party"] == "R"}
    table = stance.measure(frame, model=store["model"], by="party", labels=labels, time="date", freq="month",
                           track=False)
    assert list(table.columns[:9]) == ["group", "period", "label", "method", "estimate", "ci_low", "ci_high", "n",
                                       "n_labelled"]
    empty = table[(table["group"] == "D") & (table["period"] == "2017-02")]
    assert len(empty) == 3 and (empty["n"] == 0).all() and "no statements" in empty["note"].iloc[0]
    d_jan = table[(table["group"] == "D") & (table["period"] == "2017-01")]
    assert set(d_jan["method"]) == {"cc", "adjusted"} and "no ppi" in d_jan[d_jan["method"] == "adjusted"]["note"].iloc[0]
    assert "ppi" in set(table[table["group"] == "R"]["method"])


def test_predictions_file_gives_the_same_shares_as_scoring(store, tmp_path):
    import stance

    model = stance.load_model(store["model"])
    frame = pd.DataFrame(store["rows"]).drop(columns="gold")
    scores = [p.scores for p in stance.predict(frame["text"].tolist(), model=model)]
    scored = frame.assign(**{lab: [s[lab] for s in scores] for lab in LABELS})
    scored.to_parquet(tmp_path / "scored.parquet")
    labels = {r["id"]: r["gold"] for r in store["rows"][::3]}
    a = stance.measure(frame, model=store["model"], by="party", labels=labels, track=False)
    b = stance.measure(predictions=str(tmp_path / "scored.parquet"), by="party", labels=labels,
                       dev=None, track=False)
    keep = a["method"].isin(["cc", "ppi", "classical"])
    pd.testing.assert_frame_equal(a[keep].reset_index(drop=True)[["group", "label", "method", "estimate", "n"]],
                                  b[["group", "label", "method", "estimate", "n"]].reset_index(drop=True))


def test_bad_input_names_file_line_and_field(store, tmp_path, capsys):
    data = store["data"]
    ids = [r["id"] for r in store["rows"]][:10]
    unknown = _labels(tmp_path / "u.jsonl", store["rows"], ids)
    with open(unknown, "a") as f:
        f.write(json.dumps({"id": "nope", "label": "FAVOR", "annotator": "a"}) + "\n")
    bad_label = write_jsonl(tmp_path / "b.jsonl", [{"id": ids[0], "label": "MAYBE", "annotator": "a"}])
    rows = [dict(r) for r in store["rows"]]
    rows[4].pop("party")
    no_party = write_jsonl(tmp_path / "no_party.jsonl", rows)
    rows[7]["id"] = rows[6]["id"]
    twice = write_jsonl(tmp_path / "twice.jsonl", rows)
    cases = [(["--data", str(data), "--labels", str(unknown)], f"{unknown} line 11, field 'id': 'nope' is not in the data"),
             (["--data", str(data), "--labels", str(bad_label)], f"{bad_label} line 1, field 'label': 'MAYBE'"),
             (["--data", str(no_party), "--by", "party"], f"{no_party} line 5, field 'party': missing"),
             (["--data", str(twice)], f"{twice} line 8: id {rows[7]['id']!r} also on line 7")]
    for args, message in cases:
        assert main(["measure", "--model", store["model"], *args]) == 2, args
        assert message in capsys.readouterr().err
