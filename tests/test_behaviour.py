"""The behavioural suite (data/behaviour/suite.jsonl): big and balanced enough to report per capability, kept out
of every training and evaluation text, and scored correctly."""
from __future__ import annotations

import ast
import json
import os
from collections import Counter
from pathlib import Path

import pytest

from conftest import ROOT
from stance.evaluation import behaviour
from stance.evaluation.behaviour import (CAPABILITIES, LABELS, SUITE_PATH, format_table, load_suite, near_copies,
                                         normalise, pass_rates)
from stance.errors import DataError

SUITE = ROOT / SUITE_PATH
# Stricter than near_copies' defaults: a suite sentence that shares half its 3-word runs with a training
# statement is already too close to test generalisation. The closest pair today shares 3 of 7, the
# "should not be punished for" frame itself.
STRICT = {"jaccard": 0.6, "containment": 0.5}


def _texts(path: Path) -> list[str]:
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _shared_root(env: str | None, default: str) -> Path:
    """Where configs/data/immigration.yaml finds the shared data: $ENV or the default, relative to the repo root."""
    p = Path(os.environ.get(env) or default) if env else Path(default)
    return p if p.is_absolute() else ROOT / p


def _leaks(others: list[str]) -> list[str]:
    suite = [item["text"] for item in load_suite(SUITE)]
    return [f"{mine!r} ~ {theirs[:120]!r} ({why})" for mine, theirs, why in near_copies(suite, others, **STRICT)]


def test_the_suite_is_big_and_balanced_enough_to_report_per_capability():
    suite = load_suite(SUITE)
    assert len(suite) >= 150
    caps = Counter(item["capability"] for item in suite)
    assert set(caps) == set(CAPABILITIES)
    assert min(caps.values()) >= 15, caps
    labels = Counter(item["label"] for item in suite)
    assert {label: labels[label] >= 40 for label in LABELS} == dict.fromkeys(LABELS, True), labels
    assert len({item["id"] for item in suite}) == len(suite)
    assert len({normalise(item["text"]) for item in suite}) == len(suite)


def test_the_suite_is_short_statements():
    # CheckList items test one capability each: a long item tests several at once.
    lengths = {item["id"]: len(item["text"].split()) for item in load_suite(SUITE)}
    assert {i: n for i, n in lengths.items() if not 5 <= n <= 25} == {}


def test_no_suite_statement_or_near_copy_is_in_the_corpus_or_the_case_studies():
    others = _texts(ROOT / "data" / "immigration_stance.jsonl") + _texts(ROOT / "data" / "case_studies.jsonl")
    assert _leaks(others) == []


@pytest.mark.parametrize("where", ["realpool", "realdev"])
def test_no_suite_statement_or_near_copy_is_in_the_shared_real_text(where):
    if where == "realpool":
        files = [_shared_root("STANCE_REALPOOL", "../shared/realpool") / "realpool.jsonl"]
    else:
        files = sorted(_shared_root(None, "../shared/realdev").glob("*.jsonl"))
    present = [f for f in files if f.is_file()]
    if not present:
        pytest.skip(f"{where} is not present ({files[0] if files else '../shared/realdev/*.jsonl'}): "
                    f"users outside this repo lack it, so there is nothing to leak into")
    assert _leaks([t for f in present for t in _texts(f)]) == []


def test_no_data_config_reads_the_suite():
    """The loader reads configured paths only: keeping the suite out of training means no config's data names it
    (the `behaviour` section scores it after training)."""
    from stance.config import flatten, load_config

    named = []
    for p in sorted((ROOT / "configs").glob("*.yaml")):
        data = flatten(load_config(p).data.model_dump(mode="json"))
        named += [f"{p.name}: {k}" for k, v in data.items() if "behaviour" in str(v)]
    assert named == []
    assert load_config(ROOT / "configs" / "baseline.yaml").behaviour.path == SUITE_PATH.as_posix()


def test_near_copies_finds_a_same_a_reworded_and_a_lifted_sentence_and_nothing_else():
    suite = ["Counties should honor every detainer from ICE.", "The council meets on Tuesday."]
    others = ["counties  should honor every DETAINER from ICE.",          # same after normalising
              "Every detainer from ICE, counties should honor.",           # same words, reordered
              "We met the sheriff. Counties should honor every detainer from ICE, he said, and left.",
              "The weather was fine on Tuesday."]
    hits = near_copies(suite, others)
    assert [(mine, theirs) for mine, theirs, _ in hits] == [(suite[0], o) for o in others[:3]]
    assert hits[0][2] == "same text"


def test_pass_rates_on_a_hand_made_example():
    suite = [{"id": "a", "text": "t1", "label": "FAVOR", "capability": "negation"},
             {"id": "b", "text": "t2", "label": "AGAINST", "capability": "negation"},
             {"id": "c", "text": "t3", "label": "AGAINST", "capability": "synonyms"},
             {"id": "d", "text": "t4", "label": "NONE", "capability": "synonyms"},
             {"id": "e", "text": "t5", "label": "FAVOR", "capability": "synonyms"}]
    rates = pass_rates(suite, ["FAVOR", "FAVOR", "AGAINST", "NONE", "NONE"])
    assert rates == {
        "overall": {"n": 5, "passed": 3, "rate": 0.6},
        "capabilities": {"negation": {"n": 2, "passed": 1, "rate": 0.5},
                         "synonyms": {"n": 3, "passed": 2, "rate": 2 / 3}},
        "labels": {"FAVOR": {"n": 2, "passed": 1}, "AGAINST": {"n": 2, "passed": 1}, "NONE": {"n": 1, "passed": 1}},
    }
    with pytest.raises(ValueError, match="4 predicted labels for 5 suite items"):
        pass_rates(suite, ["FAVOR"] * 4)


def test_format_table_aligns_one_column_per_model():
    suite = [{"id": "a", "text": "t", "label": "FAVOR", "capability": "negation"},
             {"id": "b", "text": "u", "label": "NONE", "capability": "mft_plain"}]
    table = format_table({"tfidf": pass_rates(suite, ["FAVOR", "FAVOR"]),
                          "transformer": pass_rates(suite, ["NONE", "NONE"])})
    lines = table.splitlines()
    assert len({len(line) for line in lines}) == 1  # aligned
    assert [c.strip() for c in lines[0].strip("|").split("|")] == ["capability", "tfidf", "transformer"]
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]] for line in lines[2:]}
    assert rows["negation"] == ["1.000 (1/1)", "0.000 (0/1)"]
    assert rows["all"] == ["0.500 (1/2)", "0.500 (1/2)"]
    assert rows["gold AGAINST"] == ["-", "-"]  # no AGAINST item: no rate rather than 0


GOOD = {"id": "x-1", "text": "Honor every detainer.", "label": "FAVOR", "capability": "synonyms"}


@pytest.mark.parametrize("bad, expected", [
    ({**GOOD, "label": "favour"}, "line 2: field 'label' is 'favour'; expected one of FAVOR, AGAINST, NONE"),
    ({k: v for k, v in GOOD.items() if k != "capability"}, "line 2: field 'capability' is missing"),
    ({**GOOD, "capability": "negations"}, "line 2: field 'capability' is 'negations'"),
    ({**GOOD, "text": "  "}, "line 2: field 'text' must be a non-empty string"),
    ({**GOOD, "lable": "FAVOR"}, "line 2: unknown field(s) 'lable'"),
])
def test_load_suite_names_the_file_line_and_field_of_a_bad_item(tmp_path, bad, expected):
    path = tmp_path / "suite.jsonl"
    path.write_text(json.dumps({**GOOD, "id": "x-0", "text": "Other text here."}) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(DataError) as err:
        load_suite(path)
    assert f"{path} {expected}" in str(err.value)


def test_load_suite_rejects_bad_json_repeats_and_a_missing_file(tmp_path):
    path = tmp_path / "suite.jsonl"
    path.write_text(json.dumps(GOOD) + "\n{not json\n" + json.dumps({**GOOD, "text": "HONOR every  detainer."}) + "\n")
    with pytest.raises(DataError) as err:
        load_suite(path)
    assert f"{path} line 2: invalid JSON" in str(err.value)
    assert f"{path}: field 'id' repeats 'x-1'" in str(err.value)
    assert f"{path}: field 'text' repeats 'honor every detainer.'" in str(err.value)
    with pytest.raises(DataError, match="behavioural suite not found"):
        load_suite(tmp_path / "absent.jsonl")


def test_the_default_path_is_the_repo_suite(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert load_suite() == load_suite(SUITE)


def test_behaviour_imports_no_model_and_no_mlflow():
    # Scoring the suite must work where no model stack is installed; a caller brings the predictions.
    tree = ast.parse(Path(behaviour.__file__).read_text())
    names = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    names += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert [m for m in names if m.split(".")[0] in {"models", "mlflow", "torch", "transformers", "sklearn"}
            or "models" in m.split(".")] == []


def test_training_logs_the_suites_pass_rates_as_predict_answers(tiny_corpus, tracking_uri):
    import mlflow

    from conftest import ROOT, TARGET, shrunk_config
    from stance import predict
    from stance.workflows.training import train

    path = ROOT / "data" / "behaviour" / "suite.jsonl"
    result = train(shrunk_config("baseline.yaml", tiny_corpus, (f"behaviour.path={path}",
                                                                f"behaviour.target={TARGET}")))
    suite = load_suite(path)
    labels = [p.label for p in predict([s["text"] for s in suite], model=str(result.model_dir))]
    rates = pass_rates(suite, labels)
    assert result.metrics["behaviour_pass_rate"] == pytest.approx(rates["overall"]["rate"])
    assert result.metrics["behaviour_negation_pass_rate"] == pytest.approx(rates["capabilities"]["negation"]["rate"])
    files = {f.path for f in mlflow.artifacts.list_artifacts(run_id=result.run_id, artifact_path="behaviour")}
    assert {"behaviour/pass_rates.md", "behaviour/items.json"} <= files
