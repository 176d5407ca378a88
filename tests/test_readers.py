"""Parsing: every file problem is a DataError naming the file and the line."""
import pytest

from stance.data.readers import LINE, DataError, read_records


def test_csv_with_bom_and_quoted_newlines_keeps_line_numbers(tmp_path):
    f = tmp_path / "a.csv"
    f.write_bytes(b'\xef\xbb\xbftext,label\n"two\nlines",FAVOR\n\nplain,NONE\n')
    recs = read_records(f)
    assert [r["text"] for r in recs] == ["two\nlines", "plain"]
    assert [r[LINE] for r in recs] == [2, 5]  # the blank line 4 is skipped, not a record


def test_cp1252_bytes_in_utf8_file_name_the_line(tmp_path):
    f = tmp_path / "semeval.txt"
    f.write_bytes(b"ID\tTweet\tStance\r\n1\tok\tFAVOR\r\n2\tcaf\xe9 \x93quoted\x94\tNONE\r\n")
    with pytest.raises(DataError, match=r"semeval.txt line 3, byte 6: not valid utf-8.*cp1252"):
        read_records(f)
    recs = read_records(f, encoding="cp1252")
    assert recs[1]["Tweet"] == "café \u201cquoted\u201d"


def test_wrong_delimiter_is_diagnosed(tmp_path):
    f = tmp_path / "semi.csv"
    f.write_text("text;label\nhello;FAVOR\n")
    with pytest.raises(DataError, match=r"semi.csv line 1: one column 'text;label' found; the delimiter looks like ';'"):
        read_records(f)


def test_ragged_row_names_line(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("text,label\na,FAVOR\nb,NONE,extra\n")
    with pytest.raises(DataError, match=r"r.csv line 3: 3 fields, the header has 2"):
        read_records(f)


def test_empty_files(tmp_path):
    (tmp_path / "e.csv").write_text("")
    (tmp_path / "e.jsonl").write_text("\n\n")
    with pytest.raises(DataError, match="e.csv: the file is empty"):
        read_records(tmp_path / "e.csv")
    with pytest.raises(DataError, match="e.jsonl: the file is empty"):
        read_records(tmp_path / "e.jsonl")


def test_bad_json_line(tmp_path):
    f = tmp_path / "b.jsonl"
    f.write_text('{"text": "a", "label": "FAVOR"}\n{"text": oops}\n')
    with pytest.raises(DataError, match=r"b.jsonl line 2: invalid JSON"):
        read_records(f)
    f.write_text('["not", "an", "object"]\n')
    with pytest.raises(DataError, match=r"b.jsonl line 1: expected a JSON object, got list"):
        read_records(f)


def test_parquet_rows_are_numbered(tmp_path):
    import pandas as pd

    pd.DataFrame({"text": ["a", "b"], "label": ["FAVOR", "NONE"]}).to_parquet(tmp_path / "p.parquet")
    assert [r[LINE] for r in read_records(tmp_path / "p.parquet")] == [1, 2]


def test_missing_file_and_unknown_suffix(tmp_path):
    with pytest.raises(DataError, match="data file not found"):
        read_records(tmp_path / "none.csv")
    (tmp_path / "x.xlsx").write_text("x")
    with pytest.raises(DataError, match="cannot tell the format from the suffix '.xlsx'"):
        read_records(tmp_path / "x.xlsx")
