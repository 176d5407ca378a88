"""Multi-source data configs: labelled files and label logs joined to pools, weights, split rules, absent sources."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import AGAINST, FAVOR, NONE, ROOT, TARGET, tiny_rows, write_jsonl
from stance.config import ConfigError, load_config
from stance.data import DataError, load_data


def pool_and_labels(tmp: Path, split: bool = True) -> tuple[Path, Path]:
    """A pool of the tiny statements (no labels) and a label log for them, keyed by id."""
    rows = tiny_rows()
    pool = write_jsonl(tmp / "pool.jsonl", [{"id": f"p{i}", "text": r["text"], "speaker": f"s{i % 9}"}
                                            for i, r in enumerate(rows)])
    labels = write_jsonl(tmp / "labels.jsonl", [{"id": f"p{i}", "label": r["label"], "annotator": "ann",
                                                 **({"split": r["split"]} if split else {})}
                                                for i, r in enumerate(rows)])
    return pool, labels


def config(tmp: Path, sources: list[dict], **data) -> object:
    return load_config(tree={"data": {"name": "multi", "sources": sources, **data},
                             "model": {"kind": "tfidf", "calibration": "none"}})


def test_two_sources_are_joined_weighted_and_scored_per_source(tmp_path):
    pool, labels = pool_and_labels(tmp_path)
    corpus = write_jsonl(tmp_path / "corpus.jsonl",
                         [{**r, "text": "Authored: " + r["text"]} for r in tiny_rows()])
    cfg = config(tmp_path, [{"name": "corpus", "path": str(corpus)},
                            {"name": "real", "labels": str(labels), "pool": str(pool), "default_target": TARGET,
                             "weight": 3}])
    data = load_data(cfg.data, 13)
    assert len(data.train) + len(data.dev) + len(data.test) == 2 * len(tiny_rows())
    assert set(data.train.groupby("source")["weight"].first().items()) == {("corpus", 1.0), ("real", 3.0)}
    # Pool rows carry their pool text and the label from the log, and name the label line.
    real = data.train[data.train["source"] == "real"]
    assert real["text"].isin(FAVOR + AGAINST + NONE).all() and real["target"].eq(TARGET).all()
    assert real["where"].str.startswith(f"{labels}:").all()
    assert set(data.source_tests()) == {"test_corpus", "test_real"}
    assert "sources used: corpus (36 rows, weight 1), real (36 rows, weight 3)" in data.notes[0]


def test_a_source_train_cap_samples_its_train_rows_and_keeps_dev_and_test(tmp_path):
    pool, labels = pool_and_labels(tmp_path)
    corpus = write_jsonl(tmp_path / "corpus.jsonl",
                         [{**r, "text": "Authored: " + r["text"]} for r in tiny_rows()])
    sources = [{"name": "corpus", "path": str(corpus)},
               {"name": "real", "labels": str(labels), "pool": str(pool), "default_target": TARGET}]
    whole = load_data(config(tmp_path, sources).data, 13)
    capped = load_data(config(tmp_path, [{**sources[0], "max_train_rows": 5}, sources[1]]).data, 13)
    n_corpus = (whole.train["source"] == "corpus").sum()
    assert n_corpus > 5 and (capped.train["source"] == "corpus").sum() == 5
    assert (capped.train["source"] == "real").sum() == (whole.train["source"] == "real").sum()
    assert capped.test.equals(whole.test) and capped.dev.equals(whole.dev)
    assert f"source 'corpus': train capped at 5 of {n_corpus} rows (max_train_rows)" in capped.notes


def test_weights_change_the_tfidf_fit(tmp_path):
    from stance import models

    pool, labels = pool_and_labels(tmp_path)
    probs = []
    for w in (1, 50):
        cfg = config(tmp_path, [{"name": "corpus", "path": str(write_jsonl(tmp_path / "c.jsonl", [
            {**r, "text": "Corpus " + r["text"]} for r in tiny_rows()]))},
            {"name": "real", "labels": str(labels), "pool": str(pool), "default_target": TARGET, "weight": w}])
        data = load_data(cfg.data, 13)
        m = models.build(cfg.model, data.labels, 13)
        m.fit(data.train, data.dev)
        probs.append(m.predict_proba([NONE[0]], [TARGET]))
    assert not np.allclose(probs[0], probs[1])


def test_absent_optional_source_is_named_and_skipped(tmp_path, tiny_corpus):
    cfg = config(tmp_path, [{"name": "corpus", "path": str(tiny_corpus)},
                            {"name": "real", "labels": str(tmp_path / "nope.jsonl"), "pool": str(tmp_path / "pool.jsonl"),
                             "optional": True}])
    data = load_data(cfg.data, 13)
    assert any("source 'real' skipped: file not found" in n and "nope.jsonl" in n for n in data.notes)
    assert set(data.train["source"]) == {"corpus"}
    assert data.source_tests() == {}


def test_absent_required_source_is_an_error(tmp_path, tiny_corpus):
    cfg = config(tmp_path, [{"name": "corpus", "path": str(tiny_corpus)},
                            {"name": "real", "labels": str(tmp_path / "nope.jsonl"), "pool": str(tmp_path / "p.jsonl")}])
    with pytest.raises(DataError, match=r"source 'real': file not found: .*nope.jsonl"):
        load_data(cfg.data, 13)


def test_label_log_errors_name_file_and_line(tmp_path):
    pool, labels = pool_and_labels(tmp_path)
    lines = labels.read_text().splitlines()
    lines[2] = json.dumps({"id": "ghost", "label": "FAVOR", "annotator": "ann"})
    lines[4] = json.dumps({"id": "p4", "label": "MAYBE", "annotator": "ann"})
    lines.append(json.dumps({"id": "p0", "label": "NONE", "annotator": "other", "split": "train"}))
    labels.write_text("\n".join(lines) + "\n")
    cfg = config(tmp_path, [{"name": "real", "labels": str(labels), "pool": str(pool), "default_target": TARGET}])
    with pytest.raises(DataError) as e:
        load_data(cfg.data, 13)
    msg = str(e.value)
    assert f"{labels} line 3: unknown id 'ghost'" in msg
    assert f"{labels} line 5, field 'label': 'MAYBE' is not one of FAVOR, AGAINST, NONE" in msg


def test_disagreeing_annotators_without_adjudication_are_an_error_then_adjudication_wins(tmp_path):
    pool, labels = pool_and_labels(tmp_path)
    with open(labels, "a") as f:
        f.write(json.dumps({"id": "p0", "label": "NONE", "annotator": "other", "split": "train"}) + "\n")
    cfg = config(tmp_path, [{"name": "real", "labels": str(labels), "pool": str(pool), "default_target": TARGET}])
    with pytest.raises(DataError, match=r"id 'p0' has different labels and no adjudicated answer: ann=FAVOR \(line 1\); "
                                        r"other=NONE \(line 37\)"):
        load_data(cfg.data, 13)
    with open(labels, "a") as f:
        f.write(json.dumps({"id": "p0", "label": "NONE", "annotator": "judge", "adjudicated": True,
                            "split": "train"}) + "\n")
    data = load_data(cfg.data, 13)
    assert data.train.set_index("id").at["p0", "label"] == "NONE"


def test_group_column_keeps_groups_in_one_split(tmp_path):
    pool, labels = pool_and_labels(tmp_path, split=False)
    cfg = config(tmp_path, [{"name": "real", "labels": str(labels), "pool": str(pool), "default_target": TARGET,
                             "group_column": "speaker"}], dev_size=0.25, test_size=0.25)
    data = load_data(cfg.data, 13)
    where = {s: set(df["speaker"]) for s, df in data.splits.items()}
    assert not (where["train"] & where["dev"]) and not (where["train"] & where["test"]) and not (where["dev"] & where["test"])
    assert all(len(df) for df in data.splits.values())


def test_train_only_source_adds_to_train_only(tmp_path, tiny_corpus):
    pool, labels = pool_and_labels(tmp_path, split=False)
    cfg = config(tmp_path, [{"name": "corpus", "path": str(tiny_corpus)},
                            {"name": "mine", "labels": str(labels), "pool": str(pool), "default_target": TARGET,
                             "train_only": True}], duplicates="drop")
    data = load_data(cfg.data, 13)
    assert set(data.dev["source"]) == set(data.test["source"]) == {"corpus"}
    # The same texts in corpus test and in the user's labels: the test copy is kept, the training copy dropped.
    assert not set(data.train["text"]) & set(data.test["text"])


@pytest.mark.parametrize("source, message", [
    ({"name": "x"}, "set exactly one of path"),
    ({"name": "x", "labels": "l.jsonl"}, "labels and pool go together"),
    ({"name": "bad name", "path": "x.jsonl"}, "String should match pattern"),
    ({"name": "x", "path": "x.jsonl", "weight": 0}, "greater than 0"),
])
def test_bad_source_config(tmp_path, source, message):
    with pytest.raises(ConfigError, match=message):
        config(tmp_path, [source])


def test_demo_configs_use_the_corpus_and_the_real_pool():
    for name in ("baseline.yaml", "transformer.yaml"):
        cfg = load_config(ROOT / "configs" / name)
        assert [s.name for s in cfg.data.sources] == ["corpus", "realpool"]
        assert cfg.data.sources[1].labels == "data/realpool_labels.jsonl" and cfg.data.sources[1].optional


def test_a_single_file_given_on_the_command_line_replaces_the_configs_sources(tmp_path, tiny_corpus):
    cfg = load_config(ROOT / "configs" / "baseline.yaml", [f"data.path={tiny_corpus}"])
    assert cfg.data.path == str(tiny_corpus) and cfg.data.sources is None
    # The same rule for a config file over its base (configs/data/immigration.yaml has sources).
    mine = tmp_path / "mine.yaml"
    mine.write_text(f"base: {ROOT / 'configs' / 'baseline.yaml'}\ndata:\n  train: a.csv\n  test: b.csv\n")
    cfg = load_config(mine)
    assert (cfg.data.train, cfg.data.test, cfg.data.sources, cfg.data.path) == ("a.csv", "b.csv", None, None)
    assert cfg.data.exclude == "data/case_studies.jsonl"  # the rest of the data section is still inherited


def test_demo_names_the_sources_each_model_used(tmp_path, tracking_uri, capsys):
    import yaml

    from stance.workflows.demo import run_demo

    pool, labels = pool_and_labels(tmp_path)
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [{**r, "text": "Authored: " + r["text"]} for r in tiny_rows()])
    cfg = tmp_path / "two.yaml"
    cfg.write_text(yaml.safe_dump({
        "data": {"name": "two", "sources": [
            {"name": "corpus", "path": str(corpus), "max_train_rows": 10},
            {"name": "real", "labels": str(labels), "pool": str(pool), "default_target": TARGET, "weight": 3}]},
        "model": {"kind": "tfidf", "calibration": "none"}, "output_dir": str(tmp_path / "out")}))
    run_demo([str(cfg)], str(ROOT / "data" / "case_studies.jsonl"))
    out = capsys.readouterr().out
    assert ("Data (tfidf): sources used: corpus (36 rows, weight 1), real (36 rows, weight 3); "
            "source 'corpus': train capped at 10 of ") in out
