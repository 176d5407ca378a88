"""Bad input to predict (API and CLI): every invalid item is named by index or line, every valid one scored.
Property tests: text validation and the file loaders either succeed or raise our own error, never anything else."""
import json
import re
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TARGET, tiny_rows, write_jsonl
from stance import predict
from stance.cli import main
from stance.config import TfidfConfig
from stance.data import DataConfig, load_data
from stance.models.tfidf import TfidfModel
from stance.prediction.scoring import InvalidInputError, check_text
from stance.prediction.records import iter_input_records
from stance.data.readers import DataError, read_records

FAVOR_TEXT = "Deport every criminal alien and build the wall now."


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    corpus = write_jsonl(tmp_path_factory.mktemp("bad") / "tiny.jsonl", tiny_rows())
    data = load_data(DataConfig(path=str(corpus)), seed=1)
    m = TfidfModel(TfidfConfig(), data.labels, seed=1)
    m.fit(data.train, data.dev)
    return m


@pytest.fixture(scope="module")
def saved(model, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "model"
    model.save(path)
    return path


@pytest.mark.parametrize("bad, reason", [
    ("", "empty text (only whitespace or control characters)"),
    (" \t\n ", "empty text (only whitespace or control characters)"),
    ("\x00\x01\x1f", "empty text (only whitespace or control characters)"),
    (None, "None is not a statement"),
    (42, "expected a string, got int"),
    (3.5, "expected a string, got float"),
    (b"Build the wall", "expected a string, got bytes (decode it first, e.g. text.decode('utf-8'))"),
    ("half a pair \ud800", "contains unpaired surrogate code points (not valid Unicode text)"),
])
def test_each_invalid_item_is_named(model, bad, reason):
    with pytest.raises(InvalidInputError) as e:
        predict(["fine", bad], model)
    assert e.value.errors == {1: reason}
    assert str(e.value) == f"1 of 2 inputs are invalid: index 1: {reason}"


@pytest.mark.parametrize("text", [
    "Deport every criminal alien 🇺🇸🔥 and build the wall now.",    # emoji
    "يجب ترحيل المجرمين Deport every criminal alien and build the wall.",  # right-to-left script
    "<p>Deport every <b>criminal alien</b> and build the wall now.</p><script>alert(1)</script>",  # HTML
    "Deport every\x00 criminal\x0c alien and build\x1b the wall now.",  # control characters are read as spaces
])
def test_unusual_but_valid_text_is_scored(model, text):
    p = predict(text, model)
    assert p.valid and p.label == "FAVOR" and p.text == text
    assert sum(p.scores.values()) == pytest.approx(1.0)


def test_control_characters_score_like_spaces(model):
    assert predict("Deport every\x00criminal alien", model).scores == predict("Deport every criminal alien", model).scores


def test_one_megabyte_text_is_scored(model):
    big = (FAVOR_TEXT + " ") * (1_000_000 // (len(FAVOR_TEXT) + 1))
    assert len(big) > 990_000
    assert predict(big, model).label == "FAVOR"


def test_ten_thousand_items_with_a_few_invalid(model):
    texts: list = [FAVOR_TEXT, "Protect immigrant families from raids.", "The library opens at nine."] * 3334
    texts = texts[:10_000]
    for i, bad in {17: "", 4_242: None, 9_999: 7}.items():
        texts[i] = bad
    with pytest.raises(InvalidInputError, match=r"^3 of 10000 inputs are invalid: index 17: .*; index 4242: .*; "
                                                r"index 9999: "):
        predict(texts, model)
    out = predict(texts, model, on_invalid="mark")
    assert len(out) == 10_000
    assert [i for i, p in enumerate(out) if not p.valid] == [17, 4_242, 9_999]
    assert out[17].label is None and out[17].scores == {} and out[17].error.startswith("empty text")
    assert out[0].label == "FAVOR" and out[9_998].label == out[2].label  # every valid item scored, in order


def test_unknown_target_is_named_for_tfidf(model):
    with pytest.raises(InvalidInputError, match=r"index 0: target 'gun control' was not seen in training and this "
                                                r"tfidf model cannot score it"):
        predict([FAVOR_TEXT], model, target="gun control")
    assert predict(FAVOR_TEXT, model, target=TARGET).label == "FAVOR"


def test_bad_options_are_refused(model):
    with pytest.raises(ValueError, match="min_confidence must be between 0 and 1, got 1.5"):
        predict(FAVOR_TEXT, model, min_confidence=1.5)
    with pytest.raises(ValueError, match="on_invalid must be 'raise' or 'mark', got 'skip'"):
        predict(FAVOR_TEXT, model, on_invalid="skip")


def test_min_confidence_marks_unsure_results_abstained(model):
    p = predict(["The library opens at nine.", FAVOR_TEXT], model, min_confidence=0.99)
    assert all(x.abstained and x.label for x in p)  # label and scores are kept
    assert not predict(FAVOR_TEXT, model, min_confidence=0.0).abstained


def test_cli_scores_valid_lines_and_names_invalid_ones(saved, tmp_path, capsys):
    f = tmp_path / "in.jsonl"
    f.write_text(json.dumps({"text": FAVOR_TEXT}) + "\n" + '{"text": ""}\n\n' + '{"text": oops}\n'
                 + json.dumps({"body": "x"}) + "\n" + json.dumps({"text": 5}) + "\n"
                 + json.dumps({"text": "Protect immigrant families from raids."}) + "\n")
    assert main(["predict", "--model", str(saved), "--input", str(f)]) == 2
    out, err = capsys.readouterr()
    rows = [json.loads(x) for x in out.splitlines()]
    assert [(r["line"], r["label"]) for r in rows] == [(1, "FAVOR"), (7, "AGAINST")]
    assert f"{f} line 2: empty text (only whitespace or control characters)" in err
    assert f"{f} line 4: invalid JSON (Expecting value)" in err
    assert f"{f} line 5: expected a JSON object with a 'text' field" in err
    assert f"{f} line 6: expected a string, got int" in err
    assert "4 of 6 inputs were invalid; the other 2 were scored" in err

    assert main(["predict", "--model", str(saved), "--input", str(f), "--on-invalid", "mark"]) == 2
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 4, 5, 6, 7]  # one output line per input record
    assert [("error" in r) for r in rows] == [False, True, True, True, True, False]


def test_cli_names_undecodable_csv_rows(saved, tmp_path, capsys):
    f = tmp_path / "in.csv"
    f.write_bytes(b'text\n"Deport every criminal alien,\nnow."\ncaf\xe9 \x93quoted\x94\nok fine\n')
    assert main(["predict", "--model", str(saved), "--input", str(f)]) == 2
    out, err = capsys.readouterr()
    assert [json.loads(x)["line"] for x in out.splitlines()] == [2, 5]  # a quoted newline: line 2 spans 2-3
    assert f"{f} line 4: not valid UTF-8 (byte 0xe9); re-save the file as UTF-8" in err


# ------------------------------------------------------------------ property-based

@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.binary(), st.none(), st.integers(), st.floats(), st.lists(st.text(), max_size=2)))
def test_check_text_accepts_exactly_scorable_strings(value):
    why = check_text(value)
    if why is None:
        assert isinstance(value, str) and value.strip(string.whitespace + "".join(map(chr, range(32)))) != ""
        value.encode("utf-8")  # valid Unicode
    else:
        assert isinstance(why, str) and why


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(max_size=40), st.none(), st.integers()), min_size=1, max_size=8))
def test_predict_marks_or_scores_every_item(model, items):
    out = predict(items, model, on_invalid="mark")
    assert len(out) == len(items)
    for item, p in zip(items, out):
        assert p.valid == (check_text(item) is None)
        assert (p.label in model.labels) if p.valid else p.error == check_text(item)


_CELL = st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ['"', '""', ",", "\n", "\r\n", "\t", "FAVOR", "NONE", "\ufeff"])
_ROWS = st.lists(st.lists(_CELL, min_size=1, max_size=4), min_size=0, max_size=6)


def _csv_bytes(rows, sep, encoding, quote_all):
    def cell(c):
        return '"' + c.replace('"', '""') + '"' if quote_all or any(x in c for x in '",\n\r\t') else c
    text = "\n".join(sep.join(cell(c) for c in r) for r in [["text", "label"]] + rows)
    return text.encode(encoding, errors="replace")


@settings(max_examples=100, deadline=None)
@given(rows=_ROWS, sep=st.sampled_from([",", ";", "\t"]), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252",
       "latin-1", "utf-16"]), quote_all=st.booleans(), fmt=st.sampled_from(["csv", "tsv"]))
def test_delimited_loader_returns_rows_or_our_error(tmp_path_factory, rows, sep, encoding, quote_all, fmt):
    f = tmp_path_factory.mktemp("h") / f"x.{fmt}"
    f.write_bytes(_csv_bytes(rows, sep, encoding, quote_all))
    _returns_rows_or_data_error(f)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=300), suffix=st.sampled_from(["csv", "tsv", "jsonl", "parquet"]))
def test_loaders_on_random_bytes_return_rows_or_our_error(tmp_path_factory, data, suffix):
    f = tmp_path_factory.mktemp("h") / f"x.{suffix}"
    f.write_bytes(data)
    _returns_rows_or_data_error(f)


@settings(max_examples=100, deadline=None)
@given(lines=st.lists(st.one_of(
    st.dictionaries(st.sampled_from(["text", "label", "target", "split"]),
                    st.one_of(st.text(max_size=15), st.integers(), st.none(), st.sampled_from(["FAVOR", "train"]))),
    st.text(max_size=20)), max_size=6))
def test_jsonl_loader_and_validation_return_rows_or_our_error(tmp_path_factory, lines):
    f = tmp_path_factory.mktemp("h") / "x.jsonl"
    f.write_text("\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines), encoding="utf-8")
    _returns_rows_or_data_error(f)
    try:
        data = load_data(DataConfig(path=str(f), default_target="T"), seed=1)
    except DataError:
        return
    assert all(df["text"].map(lambda t: isinstance(t, str) and t.strip() != "").all() for df in data.splits.values())
    assert all(set(df["label"]) <= set(data.labels) for df in data.splits.values())


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=200))
def test_predict_input_reader_names_every_unreadable_line(tmp_path_factory, data):
    f = tmp_path_factory.mktemp("h") / "x.jsonl"
    f.write_bytes(data)
    records = list(iter_input_records(str(f)))  # never raises on content: bad lines come back named
    assert all(r.error is None or (r.text is None and r.error) for r in records)
    lines = [r.line for r in records]
    assert lines == sorted(set(lines)) and all(n >= 1 for n in lines)
    text = data.decode("utf-8", errors="surrogateescape")  # as the reader reads it: universal newlines
    assert len(records) == sum(1 for line in re.split(r"\r\n|\r|\n", text) if line.strip())


def _returns_rows_or_data_error(f):
    try:
        records = read_records(f)
    except DataError as e:
        assert str(f) in str(e)  # every error names the file
        return
    assert isinstance(records, list) and all(isinstance(r, dict) for r in records)


# ------------------------------------------------------------------ bad configs and data files, via `stance train`

@pytest.mark.parametrize("override, message", [
    ("model.cc=3", "unknown key 'model.cc'; did you mean 'model.C'?"),
    ("model.C=lots", "model.C: Input should be a valid number"),
    ("data.test_size=1.5", "data.test_size: Input should be less than 1"),
    ("model.kind=xgboost", "unknown model kind 'xgboost'; valid kinds: tfidf, transformer"),
    ("data.path=missing.jsonl", "data file not found: missing.jsonl"),
])
def test_train_rejects_bad_config_or_data_before_any_run(tracking_uri, tmp_path, capsys, override, message):
    from conftest import ROOT

    assert main(["train", str(ROOT / "configs" / "baseline.yaml"), "--set", override]) == 2
    err = capsys.readouterr().err
    assert err.startswith("stance train: ") and message in err
    assert not (tmp_path / "mlflow.db").exists()  # no store touched, so certainly no run


def test_negative_learning_rate_is_refused_before_any_run(tracking_uri, tmp_path, capsys):
    from conftest import ROOT

    assert main(["train", str(ROOT / "configs" / "transformer.yaml"), "--set", "model.learning_rate=-1e-5"]) == 2
    assert "model.learning_rate: Input should be greater than 0" in capsys.readouterr().err
    assert not (tmp_path / "mlflow.db").exists()


def test_blank_lines_keep_jsonl_line_numbers(tmp_path):
    f = tmp_path / "b.jsonl"
    f.write_text('{"text": "a", "label": "FAVOR"}\n\n   \n{"text": "b", "label": "SIDEWAYS"}\n')
    from stance.data.readers import LINE

    assert [r[LINE] for r in read_records(f)] == [1, 4]
    with pytest.raises(DataError, match=r"b.jsonl line 4, column 'label': label 'SIDEWAYS' is not one of"):
        load_data(DataConfig(path=str(f), default_target="T"), seed=1)
