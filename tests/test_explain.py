"""Explanations: the linear decomposition adds up, occlusion is what it says, output is escaped and colored
only where it should be, and every TF-IDF run logs its per-label top features."""
import io

import mlflow
import numpy as np
import pandas as pd
import pytest

from conftest import TARGET, shrunk_config
from stance.cli import main
from stance.config import TfidfConfig
from stance.data import DataConfig, load_data
from stance.workflows.explain import explain, render_html, render_terminal, use_color
from stance.models.calibrated import calibrate
from stance.models.tfidf import TfidfModel
from stance.prediction import InvalidInputError
from stance.workflows.training import train


@pytest.fixture
def model(tiny_corpus):
    data = load_data(DataConfig(path=str(tiny_corpus)), seed=1)
    m = TfidfModel(TfidfConfig(), data.labels, seed=1)
    m.fit(data.train, data.dev)
    return calibrate(m, data.dev, "sigmoid")


def test_linear_word_scores_add_up_to_the_centred_class_score(model):
    text = "Protect Dreamers and stop the deportation raids."
    e = explain(text, model)[0]
    assert e.label == "AGAINST" and e.method == "linear"
    pipe = model.base.pipeline
    decision = pipe.decision_function(pd.DataFrame({"text": [text], "target": [TARGET]}))[0]
    k = list(pipe.classes_).index("AGAINST")
    assert sum(s for _, s in e.word_scores) + e.other == pytest.approx(decision[k] - decision.mean(), abs=1e-9)
    assert [w for w, _ in e.word_scores] == text.split()
    words = dict(e.word_scores)
    assert words["Protect"] > 0 and words["Dreamers"] > 0  # campaign words for AGAINST in the tiny corpus
    assert e.features[0][1] >= abs(e.features[-1][1]) and e.features[0][0].startswith(('word "', 'chars "'))
    assert "".join(p for p, _ in e.segments) == text


def test_occlusion_is_the_fall_in_probability_without_each_word(model):
    text = "Build the wall now."
    e = explain(text, model, method="occlusion")[0]
    k = model.labels.index(e.label)
    full = model.predict_proba([text], [TARGET])[0, k]
    without_wall = model.predict_proba(["Build the now."], [TARGET])[0, k]
    assert dict(e.word_scores)["wall"] == pytest.approx(full - without_wall)
    assert e.scores[e.label] == pytest.approx(full)


def test_invalid_input_is_named_by_index(model):
    with pytest.raises(InvalidInputError, match="index 1: empty text"):
        explain(["fine statement", "   "], model)


def test_html_is_self_contained_and_escapes_the_input(model):
    e = explain('Deport them <script>alert("x")</script> & build the wall.', model)
    page = render_html(e)
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&amp;" in page and page.startswith("<!doctype html>") and "<style>" in page
    assert "src=" not in page and "<link" not in page  # nothing fetched from elsewhere
    assert page.count('title="+') + page.count('title="-') >= 5  # hover scores on the words


def test_colors_only_on_terminals_and_never_with_no_color(model, monkeypatch):
    e = explain("Deport the criminals and build the wall.", model)[0]
    colored, plain = render_terminal(e, True), render_terminal(e, False)
    assert "\033[1;32m" in colored and "\033[" not in plain
    assert plain.splitlines()[1] == "  Deport the criminals and build the wall."

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Tty()) and not use_color(io.StringIO()) and use_color(io.StringIO(), "always")
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Tty()) and not use_color(Tty(), "never")


def test_cli_explain_prints_and_writes_html(model, tmp_path, capsys):
    model.save(tmp_path / "m")
    html_file = tmp_path / "why.html"
    assert main(["explain", "--model", str(tmp_path / "m"), "--html", str(html_file), "--top", "3",
                 "Honor every ICE detainer and deport criminal aliens."]) == 0
    out = capsys.readouterr().out
    assert out.startswith("FAVOR  (FAVOR=") and "[linear]" in out and "\033[" not in out  # not a terminal
    assert out.count("\n    +") + out.count("\n    -") == 4  # 3 features + the target-and-bias line
    page = html_file.read_text()
    assert all(f">{w}</span>" in page for w in "Honor every ICE detainer and deport criminal aliens.".split())


def test_every_tfidf_run_logs_its_top_features_table(tiny_corpus, tracking_uri):
    result = train(shrunk_config("baseline.yaml", tiny_corpus, extra=("tracking.log_model=false",)))
    table = mlflow.load_table("explain/top_features.json", run_ids=[result.run_id])
    assert set(table["label"]) == {"FAVOR", "AGAINST", "NONE"}
    from stance.models import load

    top = load(result.model_dir).top_features(25)
    favor = table[table["label"] == "FAVOR"].sort_values("rank")
    assert favor["feature"].tolist() == [f for f, _ in top["FAVOR"]]
    assert np.allclose(favor["coefficient"], [c for _, c in top["FAVOR"]])
