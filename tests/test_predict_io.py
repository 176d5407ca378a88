"""Streaming `stance predict`: JSONL/CSV/Parquet in and out, in chunks, invalid rows named, progress bar."""
import json
import subprocess
import sys

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import AGAINST, FAVOR, NONE, TARGET, save_tiny_tfidf
from terminal import run_on_a_terminal
from stance.cli import main

LABELS = ["FAVOR", "AGAINST", "NONE"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_tfidf(tmp_path_factory.mktemp("tfidf") / "model")


def statements(n):
    pool = FAVOR[:4] + AGAINST[:4] + NONE[:4]
    return [pool[i % len(pool)] for i in range(n)]


def expected_labels(n):
    return [("FAVOR", "AGAINST", "NONE")[(i % 12) // 4] for i in range(n)]


def test_parquet_in_parquet_out_scores_every_row_across_chunks(model_dir, tmp_path, capsys):
    texts = statements(25)
    texts[6] = "   "     # row 7: empty
    texts[17] = None     # row 18: null
    src = tmp_path / "in.parquet"
    # Row groups of 4 and chunks of 5: records cross both boundaries.
    pq.write_table(pa.table({"id": list(range(25)), "text": texts}), src, row_group_size=4)
    out = tmp_path / "out.parquet"
    rc = main(["predict", "--model", str(model_dir), "--input", str(src), "--output", str(out), "--chunk-size", "5",
               "--on-invalid", "mark"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "in.parquet row 7: empty text (only whitespace or control characters)" in err
    assert "in.parquet row 18: None is not a statement" in err
    assert "2 of 25 inputs were invalid; the other 23 were scored" in err
    table = pq.read_table(out).to_pandas()
    assert table["line"].tolist() == list(range(1, 26))
    valid = table[table["error"].isna()]
    want = [lab for i, lab in enumerate(expected_labels(25)) if i not in (6, 17)]
    assert valid["label"].tolist() == want
    assert (valid[LABELS].sum(axis=1) - 1).abs().max() < 1e-9
    assert pd.isna(table.loc[6, "label"]) and table.loc[17, "error"] == "None is not a statement"


def test_jsonl_in_csv_out_keeps_line_numbers_and_skips_reported_lines(model_dir, tmp_path, capsys):
    texts = statements(12)
    lines = [json.dumps({"text": t}) for t in texts]
    lines.insert(3, "{not json")                   # line 4
    lines.insert(8, json.dumps({"txt": "x"}))      # line 9
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.csv"
    assert main(["predict", "--model", str(model_dir), "--input", str(src), "--output", str(out),
                 "--chunk-size", "4"]) == 2
    err = capsys.readouterr().err
    assert "in.jsonl line 4: invalid JSON" in err
    assert "in.jsonl line 9: expected a JSON object with a 'text' field" in err
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["line", "text", "target", "label", *LABELS, "abstained", "error"]
    assert frame["line"].tolist() == [n for n in range(1, 15) if n not in (4, 9)]
    assert frame["label"].tolist() == expected_labels(12)
    assert set(frame["target"]) == {TARGET} and frame["error"].isna().all()


def test_csv_in_jsonl_file_out(model_dir, tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"text": statements(9), "other": range(9)}).to_csv(src, index=False)
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--model", str(model_dir), "--input", str(src), "--output", str(out), "--quiet"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["line"] for r in rows] == list(range(2, 11))  # line 1 is the header
    assert [r["label"] for r in rows] == expected_labels(9)
    assert set(rows[0]["scores"]) == set(LABELS)


def test_parquet_without_text_column_and_unknown_output_are_named(model_dir, tmp_path, capsys):
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"body": ["a"]}), src)
    assert main(["predict", "--model", str(model_dir), "--input", str(src)]) == 2
    assert "in.parquet: no 'text' column (columns: ['body'])" in capsys.readouterr().err
    assert main(["predict", "--model", str(model_dir), "x", "--output", str(tmp_path / "o.xlsx")]) == 2
    assert "o.xlsx: --output must be .jsonl, .csv or .parquet" in capsys.readouterr().err



def test_progress_bar_on_a_terminal_and_not_with_quiet(model_dir, tmp_path):
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": statements(30)}), src)
    base = ["predict", "--model", str(model_dir), "--input", str(src), "--output", str(tmp_path / "o.jsonl")]
    rc, err = run_on_a_terminal(base, stream="stderr", columns=120)
    assert rc == 0 and "30/30" in err and "statements" in err  # Parquet metadata gives the bar its total
    rc, err = run_on_a_terminal(base + ["--quiet"], stream="stderr", columns=120)
    assert rc == 0 and "30/30" not in err and "statements" not in err
    # Not a terminal (a pipe, as in tests and scripts): no bar either.
    out = subprocess.run([sys.executable, "-m", "stance.cli", *base], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "statements" not in out.stderr
    assert len((tmp_path / "o.jsonl").read_text().splitlines()) == 30


def test_inference_option_on_a_tfidf_model_is_refused(model_dir):
    from stance.models import load

    with pytest.raises(ValueError, match=r"inference='int8' applies to transformer and ensemble models; .* is a tfidf model"):
        load(model_dir, inference="int8")
    assert load(model_dir, inference="auto").kind == "tfidf"


# ---------------------------------------------------------------- the input's own columns beside the prediction


def test_csv_output_keeps_the_input_columns_so_it_joins_back(model_dir, tmp_path, capsys):
    src = tmp_path / "statements.csv"
    n = 7
    pd.DataFrame({"id": [f"s{i}" for i in range(n)], "speaker": ["a", "b"] * 3 + ["c"], "text": statements(n),
                  "date": ["2017-08-07"] * n, "label": ["gold"] * n}).to_csv(src, index=False)
    out = tmp_path / "scored.csv"
    assert main(["predict", "--model", str(model_dir), "--input", str(src), "--output", str(out),
                 "--chunk-size", "3"]) == 0
    frame = pd.read_csv(out)
    # `label` is the prediction's name: the input's own label column is kept as input_label.
    assert list(frame.columns) == ["line", "id", "speaker", "date", "input_label", "text", "target", "label",
                                   *LABELS, "abstained", "error"]
    assert frame["id"].tolist() == [f"s{i}" for i in range(n)] and frame["speaker"].tolist()[-1] == "c"
    assert (frame["input_label"] == "gold").all() and frame["label"].tolist() == expected_labels(n)

    assert main(["predict", "--model", str(model_dir), "--input", str(src), "--output", str(out),
                 "--columns", "speaker,id"]) == 0
    assert list(pd.read_csv(out).columns)[:3] == ["line", "speaker", "id"]
    assert main(["predict", "--model", str(model_dir), "--input", str(src), "--output", str(out),
                 "--no-input-columns"]) == 0
    assert list(pd.read_csv(out).columns) == ["line", "text", "target", "label", *LABELS, "abstained", "error"]
    capsys.readouterr()
    assert main(["predict", "--model", str(model_dir), "--input", str(src), "--output", str(out),
                 "--columns", "id,speakr"]) == 2
    assert "statements.csv: --columns names 'speakr', not in the input (columns: ['id', 'speaker', 'text'," \
        in capsys.readouterr().err


def test_parquet_and_jsonl_outputs_keep_the_input_columns_with_their_types(model_dir, tmp_path, capsys):
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": list(range(9)), "text": statements(9), "score": [0.5] * 9}), src,
                   row_group_size=4)
    out = tmp_path / "out.parquet"
    assert main(["predict", "--model", str(model_dir), "--input", str(src), "--output", str(out),
                 "--chunk-size", "4"]) == 0
    table = pq.read_table(out)
    assert table.schema.field("id").type == pa.int64() and table.column("id").to_pylist() == list(range(9))
    assert table.column_names[:3] == ["line", "id", "score"]

    src = tmp_path / "in.jsonl"
    rows = [{"id": i, "text": t, "meta": {"source": "x"}} for i, t in enumerate(statements(5))]
    rows[4]["late"] = "only here"  # a field the first chunk lacks: named on stderr for CSV, kept in JSONL
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--model", str(model_dir), "--input", str(src), "--output", str(out)]) == 0
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in got] == list(range(5)) and got[0]["meta"] == {"source": "x"}
    assert got[4]["late"] == "only here" and got[0]["label"] == "FAVOR"
    capsys.readouterr()
    out = tmp_path / "out.csv"
    assert main(["predict", "--model", str(model_dir), "--input", str(src), "--output", str(out),
                 "--chunk-size", "2"]) == 0
    assert "line 5: input field 'late' is not written" in capsys.readouterr().err
    assert pd.read_csv(out)["id"].tolist() == list(range(5))
