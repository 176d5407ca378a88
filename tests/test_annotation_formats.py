"""`stance annotate export` / `import` for Label Studio (JSON, JSON-MIN, CSV), Prodigy and doccano, without a
server: tasks carry the model's suggestion, exports come back per annotator, re-imports add nothing, and every bad
export is refused with a line naming the task while the label log stays byte for byte as it was.

The exports here are written the way Label Studio 1.23 writes them (its converter: label_studio_sdk.converter);
tests/test_label_studio.py checks the same code against a real server's exports."""
from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import AGAINST, FAVOR, NONE, ROOT, TARGET, write_jsonl
from stance.annotation.formats import FORMATS, RULES, detect
from stance.cli import main
from stance.config import LABELS
from stance.data import DataError
from stance.data.labels import LabelLog, read_answers
from stance.workflows.exchange import export_tasks, import_export


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A TF-IDF model fitted on the tiny corpus (under a second): the suggester."""
    from conftest import save_tiny_tfidf

    return save_tiny_tfidf(tmp_path_factory.mktemp("suggester") / "model")


@pytest.fixture
def pool(tmp_path) -> Path:
    texts = FAVOR[:3] + AGAINST[:3] + NONE[:3]
    return write_jsonl(tmp_path / "pool.jsonl", [{"id": f"s{i}", "text": t, "speaker": f"speaker {i % 2}"}
                                                 for i, t in enumerate(texts)])


def _ls_export(tasks: list[dict], answers: dict[int, list], cancelled=()) -> list[dict]:
    """A Label Studio JSON export: task n gets one annotation per (user, choices) in answers[n]."""
    out = []
    for n, task in enumerate(tasks):
        anns = [{"id": 100 * n + k, "completed_by": user, "was_cancelled": (n, user) in cancelled,
                 "result": [] if (n, user) in cancelled else
                 [{"from_name": "stance", "to_name": "text", "type": "choices", "value": {"choices": choices}}]}
                for k, (user, choices) in enumerate(answers.get(n, []))]
        for a in anns:  # each annotation carries the prediction its annotator saw; the task lists them by id
            a["prediction"] = {"id": n + 1, **task["predictions"][0]}
        out.append({"id": n + 1, "data": task["data"], "predictions": [n + 1], "annotations": anns})
    return out


def _write(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _export(tmp_path, pool, model_dir, fmt="label-studio", name="tasks.json", **kw):
    export_tasks(str(pool), str(model_dir), str(tmp_path / name), fmt=fmt, **kw)
    text = (tmp_path / name).read_text()
    return json.loads(text) if name.endswith(".json") else [json.loads(x) for x in text.splitlines()]


# ------------------------------------------------------------------ export


def test_label_studio_tasks_carry_text_target_metadata_and_the_models_suggestion(tmp_path, pool, model_dir):
    import stance

    batch = tmp_path / "batch.csv"
    batch.write_text("id,text,suggestion\ns4,x,AGAINST\ns0,y,FAVOR\n")
    tasks = _export(tmp_path, pool, model_dir, ids=str(batch), config_output=str(tmp_path / "config.xml"))
    assert [t["data"]["statement_id"] for t in tasks] == ["s4", "s0"]  # the batch's order
    model = stance.load_model(str(model_dir))
    for task, text in zip(tasks, (AGAINST[1], FAVOR[0])):
        expected = stance.predict(text, target=TARGET, model=model)
        assert task["data"]["text"] == text and task["data"]["target"] == TARGET
        assert task["data"]["speaker"] in ("speaker 0", "speaker 1")
        (pred,) = task["predictions"]
        assert pred["model_version"] == str(model_dir)
        assert pred["score"] == pytest.approx(expected.scores[expected.label], abs=1e-4)
        assert pred["result"][0]["value"]["choices"] == [expected.label]
        assert (pred["result"][0]["from_name"], pred["result"][0]["to_name"]) == ("stance", "text")

    config = ET.fromstring((tmp_path / "config.xml").read_text())
    (choices,) = config.iter("Choices")
    assert (choices.get("name"), choices.get("toName")) == ("stance", "text")
    assert [(c.get("value"), c.get("hint")) for c in choices] == [(lab, RULES[lab]) for lab in LABELS]
    assert {t.get("value") for t in config.iter("Text")} == {"$text", "$target"}


def test_the_hints_are_the_guidelines_rules():
    card = (ROOT / "data" / "README.md").read_text()
    for label, rule in RULES.items():
        assert re.search(rf"^\*\*{label}\*\* — {re.escape(rule)}:?$", card, re.M), (label, rule)


def test_export_never_overwrites_and_names_a_bad_batch(tmp_path, pool, model_dir):
    (tmp_path / "tasks.json").write_text("mine")
    with pytest.raises(FileExistsError, match="tasks.json already exists"):
        _export(tmp_path, pool, model_dir)
    assert (tmp_path / "tasks.json").read_text() == "mine"
    batch = tmp_path / "batch.csv"
    batch.write_text("id\ns1\nnope\ns1\n")
    with pytest.raises(DataError) as e:
        _export(tmp_path, pool, model_dir, name="other.json", ids=str(batch))
    assert "batch.csv line 3: unknown id 'nope'" in str(e.value) and "line 4: id 's1' repeats line 2" in str(e.value)
    assert not (tmp_path / "other.json").exists()


# ------------------------------------------------------------------ import


@pytest.fixture
def exported(tmp_path, pool, model_dir):
    """The exported tasks, and a Label Studio export of them: users 1 and 2 label tasks 0-5 (disagreeing on
    task 2), user 2 skips task 6, nobody labels tasks 7-8."""
    tasks = _export(tmp_path, pool, model_dir)
    gold = ["FAVOR"] * 3 + ["AGAINST"] * 3
    answers = {n: [(1, [lab]), (2, ["NONE" if n == 2 else lab])] for n, lab in enumerate(gold)}
    answers[6] = [(1, ["NONE"]), (2, [])]
    return tasks, _write(tmp_path / "export.json", _ls_export(tasks, answers, cancelled={(6, 2)}))


def test_import_keeps_each_annotator_reports_skips_and_feeds_agreement(tmp_path, pool, model_dir, exported, capsys):
    _, export = exported
    labels = tmp_path / "labels.jsonl"
    LabelLog(labels, "carol").add("s0", "FAVOR", 3)  # an answer from the terminal, before
    before = labels.read_bytes()
    r = import_export(str(export), str(labels), pool=str(pool), track=False)
    assert r.format == "label-studio" and dict(r.added) == {"label-studio-user-1": 7, "label-studio-user-2": 6}
    assert r.unlabelled == 2 and len(r.skipped) == 1 and "task 7" in r.skipped[0] and "skipped" in r.skipped[0]
    assert labels.read_bytes().startswith(before)  # appended after what was there
    answers = read_answers(labels, list(LABELS))
    assert {(a.id, a.annotator, a.label) for a in answers} >= {("s2", "label-studio-user-1", "FAVOR"),
                                                               ("s2", "label-studio-user-2", "NONE"),
                                                               ("s0", "carol", "FAVOR")}
    line = json.loads(labels.read_text().splitlines()[1])
    assert line["model_version"] == str(model_dir) and line["origin"] == "label-studio:export.json"

    assert main(["annotate", "agreement", str(labels), str(labels), "--a-name", "label-studio-user-1",
                 "--b-name", "label-studio-user-2"]) == 0
    printed = capsys.readouterr().out
    assert "6 items labelled by both" in printed and "1 disagreements" in printed

    after = labels.read_bytes()
    again = import_export(str(export), str(labels), pool=str(pool), track=False)
    assert sum(again.added.values()) == 0 and again.unchanged == 13 and labels.read_bytes() == after


def test_json_min_and_csv_exports_read_as_the_json_one(tmp_path, pool, exported):
    """JSON-MIN: one flat row per annotation (data fields, the choice under the control's name, annotator as a
    number), cancelled annotations left out, an unannotated task as a row without annotation; CSV: the same rows."""
    tasks, export = exported
    rows = []
    for task in json.loads(export.read_text()):
        anns = [a for a in task["annotations"] if not a["was_cancelled"]] or [None]
        for a in anns:
            row = {**task["data"], "id": task["id"], "annotator": a and a["completed_by"],
                   "annotation_id": a and a["id"], "created_at": "2026-12-07T10:00:00Z", "lead_time": 3.5}
            if a and a["result"]:
                row["stance"] = a["result"][0]["value"]["choices"][0]
            rows.append(row)
    labels = tmp_path / "labels.jsonl"
    first = import_export(str(export), str(labels), pool=str(pool), track=False)
    log = labels.read_bytes()
    minimal = _write(tmp_path / "min.json", rows)
    with open(tmp_path / "export.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=sorted({k for r in rows for k in r}))
        w.writeheader()
        w.writerows(rows)
    for path in (minimal, tmp_path / "export.csv"):
        assert detect(path) == "label-studio"
        r = import_export(str(path), str(labels), pool=str(pool), track=False)
        assert sum(r.added.values()) == 0 and r.unchanged == sum(first.added.values()) and r.unlabelled == 2
    assert labels.read_bytes() == log


def test_users_file_names_annotators_by_email(tmp_path, pool, exported):
    _, export = exported
    users = _write(tmp_path / "users.json", [{"id": 1, "email": "ann@lab.org"}, {"id": 2, "email": "ben@lab.org"}])
    r = import_export(str(export), str(tmp_path / "l.jsonl"), pool=str(pool), users=str(users), track=False)
    assert set(r.added) == {"ann@lab.org", "ben@lab.org"} and "by ben@lab.org): skipped" in r.skipped[0]


# ------------------------------------------------------------------ bad input: refused, the log untouched


def _refused(tmp_path, export: Path, pool: Path, *needles: str) -> None:
    labels = tmp_path / "labels.jsonl"
    if not labels.exists():
        LabelLog(labels, "label-studio-user-1").add("s0", "FAVOR", None)
    before = labels.read_bytes()
    with pytest.raises(DataError) as e:
        import_export(str(export), str(labels), pool=str(pool), track=False)
    for needle in needles:
        assert needle in str(e.value), str(e.value)
    assert labels.read_bytes() == before


def test_an_export_from_another_project_is_refused(tmp_path, pool, exported):
    tasks, _ = exported
    other = [{"id": 7, "data": {"text": "I love it"}, "annotations": [
        {"id": 1, "completed_by": 1, "result": [{"type": "choices", "value": {"choices": ["Positive"]}}]}]}]
    _refused(tmp_path, _write(tmp_path / "o.json", other), pool, "task 7: no data.statement_id")
    wrong = _ls_export(tasks, {0: [(1, ["Positive"])]})
    _refused(tmp_path, _write(tmp_path / "w.json", wrong), pool, "task 1", "choice 'Positive' is not one of")
    moved = json.loads(json.dumps(tasks))
    moved[1]["data"]["text"] = "A different statement."
    _refused(tmp_path, _write(tmp_path / "m.json", _ls_export(moved, {1: [(1, ["FAVOR"])]})), pool,
             "task 2", "the text differs from")
    moved[1]["data"]["statement_id"] = "zz"
    _refused(tmp_path, _write(tmp_path / "z.json", _ls_export(moved, {1: [(1, ["FAVOR"])]})), pool,
             "unknown statement id 'zz'")


def test_a_truncated_export_is_one_line(tmp_path, pool, exported):
    _, export = exported
    cut = tmp_path / "cut.json"
    cut.write_text(export.read_text()[:-40])
    _refused(tmp_path, cut, pool, "cut.json line 1, column", "not valid JSON", "truncated")


def test_two_choices_in_one_annotation_are_refused(tmp_path, pool, exported):
    tasks, _ = exported
    doc = _ls_export(tasks, {3: [(1, ["FAVOR", "NONE"])]})
    _refused(tmp_path, _write(tmp_path / "two.json", doc), pool, "task 4", "2 choices ['FAVOR', 'NONE']")


def test_repeated_tasks_count_once_and_contradictions_are_refused(tmp_path, pool, exported):
    tasks, _ = exported
    doc = _ls_export(tasks, {1: [(2, ["FAVOR"])]})
    doc.append({**doc[1], "id": 50})  # the same statement twice (two imports into one project)
    labels = tmp_path / "labels.jsonl"
    r = import_export(str(_write(tmp_path / "rep.json", doc)), str(labels), pool=str(pool), track=False)
    assert dict(r.added) == {"label-studio-user-2": 1} and r.repeated == 1 and r.unlabelled == len(tasks) - 1
    doc[-1] = {**doc[-1], "annotations": [{**doc[1]["annotations"][0], "result": [
        {"type": "choices", "value": {"choices": ["NONE"]}}]}]}
    _refused(tmp_path, _write(tmp_path / "rep2.json", doc), pool, "task 50", "answered NONE here but FAVOR at")
    # A changed answer against the log: the log keeps the old one.
    changed = _ls_export(tasks, {1: [(2, ["AGAINST"])]})
    _refused(tmp_path, _write(tmp_path / "chg.json", changed), pool, "AGAINST here, but label-studio-user-2 labelled "
             "'s1' FAVOR before", "the log keeps it")


def test_tasks_without_annotations_are_reported_not_errors(tmp_path, pool, exported):
    tasks, _ = exported
    r = import_export(str(_write(tmp_path / "none.json", _ls_export(tasks, {}))), str(tmp_path / "l.jsonl"),
                      pool=str(pool), track=False)
    assert sum(r.added.values()) == 0 and r.unlabelled == len(tasks)
    assert not (tmp_path / "l.jsonl").exists()


# ------------------------------------------------------------------ Prodigy and doccano


def test_prodigy_round_trip(tmp_path, pool, model_dir):
    tasks = _export(tmp_path, pool, model_dir, fmt="prodigy", name="tasks.jsonl")
    assert tasks[0]["accept"] == [tasks[0]["meta"]["suggestion"]] and [o["id"] for o in tasks[0]["options"]] == list(LABELS)
    out = []
    for i, t in enumerate(tasks[:4]):
        answer = "ignore" if i == 3 else "accept"
        out.append({**t, "accept": ["NONE"] if i == 2 else t["accept"], "answer": answer, "_annotator_id": "s-ann"})
    export = write_jsonl(tmp_path / "db-out.jsonl", out)
    assert detect(export) == "prodigy"
    labels = tmp_path / "labels.jsonl"
    r = import_export(str(export), str(labels), pool=str(pool), track=False)
    assert dict(r.added) == {"s-ann": 3} and len(r.skipped) == 1 and "'ignore'" in r.skipped[0]
    got = {a.id: a.label for a in read_answers(labels, list(LABELS))}
    assert got["s2"] == "NONE" and got["s0"] == tasks[0]["accept"][0]
    out[0] = {**out[0], "accept": ["FAVOR", "AGAINST"]}
    _refused(tmp_path, write_jsonl(tmp_path / "bad.jsonl", out), pool, "bad.jsonl line 1", "2 choices")


def test_doccano_round_trip_names_the_annotator(tmp_path, pool, model_dir, tracking_uri, capsys):
    tasks = _export(tmp_path, pool, model_dir, fmt="doccano", name="tasks.jsonl")
    assert "label" not in tasks[0] and tasks[0]["suggestion"] in LABELS and tasks[0]["statement_id"] == "s0"
    rows = [{**t, "id": 90 + i, "label": ["AGAINST"] if i < 2 else []} for i, t in enumerate(tasks)]
    export = write_jsonl(tmp_path / "admin.jsonl", rows)
    assert detect(export) == "doccano"
    labels = tmp_path / "labels.jsonl"
    with pytest.raises(DataError, match="names no annotator; pass --annotator"):
        import_export(str(export), str(labels), track=False)
    assert main(["annotate", "import", str(export), "--labels", str(labels), "--annotator", "dora",
                 "--pool", str(pool)]) == 0
    assert "doccano: added 2 answers" in capsys.readouterr().out
    assert {(a.id, a.annotator, a.label) for a in read_answers(labels, list(LABELS))} == \
        {("s0", "dora", "AGAINST"), ("s1", "dora", "AGAINST")}


def test_every_format_is_registered_with_the_cli():
    from stance.cli.exchange import FORMAT_NAMES

    assert tuple(FORMATS) == FORMAT_NAMES


# ------------------------------------------------------------------ the commands


def test_export_and_import_commands(tmp_path, pool, model_dir, tracking_uri, capsys):
    out, config = tmp_path / "t.json", tmp_path / "c.xml"
    assert main(["annotate", "export", "--data", str(pool), "--model", str(model_dir), "--output", str(out),
                 "--config-output", str(config)]) == 0
    assert f"wrote 9 label-studio tasks to {out}" in capsys.readouterr().out and config.is_file()
    export = _write(tmp_path / "e.json", _ls_export(json.loads(out.read_text()), {0: [(1, ["FAVOR"])]}))
    labels = tmp_path / "labels.jsonl"
    assert main(["annotate", "import", str(export), "--labels", str(labels), "--pool", str(pool)]) == 0
    printed = capsys.readouterr().out
    assert "label-studio: added 1 answers" in printed and "label-studio-user-1 1" in printed
    assert main(["annotate", "import", str(export), "--labels", str(labels), "--pool", str(pool),
                 "--format", "batch"]) == 1
    assert "--annotator" in capsys.readouterr().err
    assert main(["annotate", "export", "--format", "prodigy", "--data", str(pool), "--model", str(model_dir),
                 "--output", str(tmp_path / "p.jsonl"), "--config-output", str(tmp_path / "p.xml")]) == 1
    assert "--config-output is for label-studio" in capsys.readouterr().err
