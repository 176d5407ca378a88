"""Validation, duplicates, splits and digests of labelled data."""
import pytest

from conftest import tiny_rows, write_jsonl
from stance.config import DataConfig
from stance.data import load_data
from stance.data.readers import DataError


def cfg(path, **kw):
    return DataConfig(path=str(path), **kw)


def test_split_column_is_used_and_digest_is_stable(tiny_corpus):
    data = load_data(cfg(tiny_corpus), seed=1)
    assert {s: len(df) for s, df in data.splits.items()} == {"train": 24, "dev": 6, "test": 6}
    assert list(data.train.columns[:4]) == ["text", "label", "target", "where"]
    assert data.train["where"].iloc[0].endswith("tiny.jsonl:1")
    assert data.digest == load_data(cfg(tiny_corpus), seed=2).digest  # split column: seed-independent
    assert len(data.digest) == 16


def test_seeded_stratified_split_without_split_column(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "split"} for r in tiny_rows()] * 1
    f = write_jsonl(tmp_path / "nosplit.jsonl", rows)
    a, b = load_data(cfg(f), seed=3), load_data(cfg(f), seed=3)
    assert a.train["text"].tolist() == b.train["text"].tolist()
    assert sum(len(df) for df in a.splits.values()) == 36
    assert set(a.test["label"]) == {"FAVOR", "AGAINST", "NONE"}  # stratified
    assert any("seeded stratified split" in n for n in a.notes)
    assert load_data(cfg(f), seed=4).train["text"].tolist() != a.train["text"].tolist()


def test_every_bad_row_is_reported_with_file_line_and_column(tmp_path):
    rows = tiny_rows()
    rows[2]["label"] = "FAVOUR"
    rows[5]["text"] = "   "
    f = write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(DataError) as e:
        load_data(cfg(f), seed=1)
    msg = str(e.value)
    assert "2 problems" in msg
    assert "bad.jsonl line 3, column 'label': label 'FAVOUR' is not one of FAVOR, AGAINST, NONE" in msg
    assert "bad.jsonl line 6, column 'text': empty or missing text ('   ')" in msg


def test_labels_are_matched_case_insensitively_and_mapped(tmp_path):
    rows = tiny_rows()
    rows[0]["label"] = "favor"
    rows[1]["label"] = "pro"
    f = write_jsonl(tmp_path / "m.jsonl", rows)
    data = load_data(cfg(f, label_map={"pro": "FAVOR"}), seed=1)
    assert data.train["label"].iloc[0] == "FAVOR" and data.train["label"].iloc[1] == "FAVOR"


def test_missing_column_names_what_was_found(tmp_path):
    f = write_jsonl(tmp_path / "c.jsonl", [{"body": "x", "label": "FAVOR"}])
    with pytest.raises(DataError, match=r"c.jsonl: missing column\(s\) \['text'\]; found \['body', 'label'\]"):
        load_data(cfg(f), seed=1)


def test_duplicates_error_or_drop_with_count(tmp_path):
    rows = tiny_rows()
    rows.append({**rows[0], "text": rows[0]["text"].upper() + "  ", "split": "test"})
    f = write_jsonl(tmp_path / "d.jsonl", rows)
    with pytest.raises(DataError, match=r"d.jsonl:1: duplicate of .*d.jsonl:37"):
        load_data(cfg(f), seed=1)
    data = load_data(cfg(f, duplicates="drop"), seed=1)
    # The test copy is kept; the train copy goes, so nothing leaks from test into train.
    assert rows[0]["text"] not in data.train["text"].tolist()
    assert sum(len(df) for df in data.splits.values()) == 36
    assert "dropped 1 duplicate texts" in data.notes[0]


def test_excluded_case_studies_must_not_be_in_a_split(tmp_path, tiny_corpus):
    held = write_jsonl(tmp_path / "held.jsonl", [{"text": tiny_rows()[3]["text"]}])
    with pytest.raises(DataError, match=r"tiny.jsonl:4: also in .*held.jsonl line 1"):
        load_data(cfg(tiny_corpus, exclude=str(held)), seed=1)


def test_single_class_and_rare_class(tmp_path):
    one = write_jsonl(tmp_path / "one.jsonl", [{"text": f"t{i}", "label": "FAVOR"} for i in range(9)])
    with pytest.raises(DataError, match="only one label \\('FAVOR'\\)"):
        load_data(cfg(one), seed=1)
    rare = write_jsonl(tmp_path / "rare.jsonl", [{"text": f"t{i}", "label": "FAVOR"} for i in range(9)]
                       + [{"text": "x", "label": "NONE"}])
    with pytest.raises(DataError, match=r"fewer than 3 examples: too few for a stratified"):
        load_data(cfg(rare), seed=1)


def test_default_target_fills_missing_column(tmp_path):
    rows = [{"text": r["text"], "label": r["label"]} for r in tiny_rows()]
    f = write_jsonl(tmp_path / "nt.jsonl", rows)
    data = load_data(cfg(f, default_target="T1"), seed=1)
    assert set(data.train["target"]) == {"T1"}


def test_separate_split_files(tmp_path):
    rows = tiny_rows()
    train = write_jsonl(tmp_path / "train.jsonl", [r for r in rows if r["split"] == "train"])
    test = write_jsonl(tmp_path / "test.jsonl", [r for r in rows if r["split"] == "test"])
    data = load_data(DataConfig(train=str(train), test=str(test), dev_size=0.2, test_size=0.1), seed=1)
    assert len(data.test) == 6  # the given test file, untouched
    assert len(data.dev) > 0 and len(data.train) + len(data.dev) == 24


def test_bad_split_value(tmp_path):
    rows = tiny_rows()
    rows[0]["split"] = "holdout"
    with pytest.raises(DataError, match=r"line 1, column 'split': split 'holdout' is not train, dev or test"):
        load_data(cfg(write_jsonl(tmp_path / "s.jsonl", rows)), seed=1)


def test_hf_dataset_fails_fast_offline():
    with pytest.raises(DataError, match="cannot be downloaded: HF_HUB_OFFLINE is set"):
        load_data(DataConfig(hf_dataset="someone/stance"), seed=1)


def test_semeval_style_tsv_files_in_cp1252(tmp_path):
    """The SemEval layout (several cp1252 TSV training files, CRLF, a Target column) through the real loader."""
    header = "ID\tTarget\tTweet\tStance\tOpinion towards\tSentiment\r\n"

    def tsv(name, rows):
        body = "".join(f"{i}\t{t}\t{x}\t{s}\tX\tY\r\n" for i, (t, x, s) in enumerate(rows))
        (tmp_path / name).write_bytes((header + body).encode("cp1252"))
        return str(tmp_path / name)

    rows = [(t, f"tweet {i} about {t} caf\u00e9 \u201cq\u201d #SemST", lab) for i, (t, lab) in
            enumerate([("Atheism", "AGAINST"), ("Atheism", "FAVOR"), ("Atheism", "NONE")] * 7)]
    cfg = DataConfig(train=[tsv("trial.txt", rows[:6]), tsv("train.txt", rows[6:])],
                     test=tsv("test.txt", [("Atheism", "new tweet one", "FAVOR"), ("Atheism", "new tweet two", "AGAINST")]),
                     format="tsv", encoding="cp1252", text_column="Tweet", label_column="Stance",
                     target_column="Target", split_column=None, dev_size=0.15, test_size=0.15)
    data = load_data(cfg, seed=1)
    assert len(data.test) == 2 and len(data.train) + len(data.dev) == 21
    assert set(data.train["target"]) == {"Atheism"}
    assert "caf\u00e9 \u201cq\u201d" in data.train["text"].iloc[0]
    assert any("dev split (15%) taken from the training file" in n for n in data.notes)
