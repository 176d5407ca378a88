"""What a new user sees in the MLflow UI: a real headless Chromium, each page in a fresh browser profile, against
the server `stance ui` starts and the links it prints.

The runs link must open the training runs (not MLflow 3's GenAI overview) with the headline F1 columns and
values; the compare link must name the compared runs and plot the headline metric. Screenshots are saved under
the test's tmp path, and copied to $STANCE_UI_SHOTS when it is set (for people reviewing a change).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import mlflow
import pytest

from conftest import private_store, shrunk_config, tiny_rows, write_jsonl
from servers import free_port, http_service
from stance.evaluation.summary import headline_metrics
from stance.workflows.training import train

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it as root)")


def _render(url: str, shot: Path, size: str = "1600,1000") -> str:
    """The DOM after the single-page app has rendered, plus a screenshot; each in a fresh browser profile."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--virtual-time-budget=15000", f"--window-size={size}"]
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([CHROMIUM, *flags, f"--user-data-dir={profile}", f"--screenshot={shot}", url],
                       capture_output=True, timeout=120)
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run([CHROMIUM, *flags, f"--user-data-dir={profile}", "--dump-dom", url],
                             capture_output=True, text=True, timeout=120)
    assert shot.stat().st_size > 10_000, f"no screenshot of {url}"
    if os.environ.get("STANCE_UI_SHOTS"):
        Path(os.environ["STANCE_UI_SHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(os.environ["STANCE_UI_SHOTS"]) / shot.name)
    return out.stdout


def _text(dom: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", " ", dom, flags=re.S)))


def _shown(value: float) -> str:
    """A metric as the runs table prints it: unrounded, as JavaScript writes a number (1.0 is "1")."""
    return str(int(value)) if value == int(value) else repr(value)


def _plotted_metrics(dom: str) -> list[str]:
    """The compare page's parallel-coordinates axes drawn for metrics (MLflow sets them in bold)."""
    return re.findall(r'class="axis-title"[^>]*data-unformatted="([^"]+)"[^>]*font-weight: bold', dom)


def _stance_ui(uri: str, tmp: Path):
    """`stance ui` on a free port, as a user starts it; yields (base url, what it printed)."""
    port = free_port()
    cmd = [sys.executable, "-m", "stance.cli", "ui", "--port", str(port), "--tracking-uri", uri]
    log = tmp / "stance-ui.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    ready = f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/search?max_results=1"
    return http_service(cmd, ready, log, env=env, cwd=tmp), f"http://127.0.0.1:{port}", log


def _links(printed: str) -> dict[str, str]:
    runs = re.search(r"training runs: (\S+)", printed)
    compare = re.search(r"compare .*:\n\s+(\S+)", printed)
    return {"runs": runs.group(1) if runs else "", "compare": compare.group(1) if compare else ""}


def _check_runs_page(dom: str, runs: list) -> None:
    page = _text(dom)
    assert "Detect Issues" not in page and "Overview" not in page, "landed on the GenAI overview, not the runs"
    headline = headline_metrics(runs[0].data.metrics)
    for run in runs:
        assert run.info.run_name in page, f"run {run.info.run_name} missing from the runs page"
    for metric in headline:
        assert metric in page, f"column {metric} missing from the runs table"
        values = {_shown(r.data.metrics[metric]) for r in runs}
        table = page[page.index(metric):]
        assert all(f" {v} " in table for v in values), f"{metric} values {values} not shown"


def test_stance_ui_links_open_runs_with_f1_columns_and_the_comparison(tiny_corpus, tracking_uri, tmp_path):
    # Two model kinds without training a transformer here: a deliberately weak baseline tagged as its own kind
    # (as in test_experiment.py); test_compare_link_names_both_kinds below has the real transformer.
    trained = [train(shrunk_config("baseline.yaml", tiny_corpus, extra=("tracking.run_name=tfidf C=1",))),
               train(shrunk_config("baseline.yaml", tiny_corpus, C=0.0001, class_weight=None,
                                   extra=("tracking.tags={model_kind: tfidf-weak}",
                                          "tracking.run_name=tfidf-weak C=0.0001")))]
    runs = [mlflow.get_run(t.run_id) for t in trained]
    assert list(runs[0].data.metrics)[0] == "test_macro_f1"  # the compare page plots the first shared metric
    note = runs[0].data.tags["mlflow.note.content"]
    assert "| test " in note and f"{runs[0].data.metrics['test_macro_f1']:.3f}" in note and "tiny.jsonl" in note

    service, base, log = _stance_ui(tracking_uri, tmp_path)
    with service:
        printed = log.read_text()
        links = _links(printed)
        assert links["runs"].startswith(base) and "workflowType=machine_learning" in links["runs"], printed
        assert "compare tfidf (tfidf C=1) vs tfidf-weak (tfidf-weak C=0.0001):" in printed
        _check_runs_page(_render(links["runs"], tmp_path / "ui-runs.png"), runs)

        # The same experiment without the link's parameters is what a fresh browser shows otherwise.
        plain = _text(_render(f"{base}/#/experiments/{runs[0].info.experiment_id}", tmp_path / "ui-plain.png"))
        assert "Overview" in plain, "MLflow now opens experiments on their runs: the links' parameter may be dropped"

        dom = _render(links["compare"], tmp_path / "ui-compare.png", size="1400,2000")
        page = _text(dom)
        assert "Comparing 2 Runs" in page and all(r.info.run_name in page for r in runs)
        assert _plotted_metrics(dom) == ["test_macro_f1"]

        # A run's page: its Description is the headline table and the data it was trained on.
        run = runs[1]
        page = _text(_render(f"{base}/#/experiments/{run.info.experiment_id}/runs/{run.info.run_id}"
                             "?workflowType=machine_learning", tmp_path / "ui-run-description.png"))
        assert "evaluation set" in page and "macro-F1" in page and "trained on:" in page
        assert f"{run.data.metrics['test_macro_f1']:.3f}" in page


@pytest.mark.slow
def test_compare_link_names_both_kinds(registered_transformer, tmp_path_factory):
    """The demo's situation: a transformer and a TF-IDF run in one experiment. Reuses the session's tiny
    transformer (trained once for the serving and Spark tests) and trains a TF-IDF run beside it."""
    uri, _ = registered_transformer
    tmp = tmp_path_factory.mktemp("ui-both")
    corpus = write_jsonl(tmp / "tiny.jsonl", tiny_rows())
    with private_store(tmp):
        mlflow.set_tracking_uri(uri)
        os.environ["MLFLOW_TRACKING_URI"] = uri
        train(shrunk_config("baseline.yaml", corpus, extra=(f"tracking.uri={uri}",)))
        service, base, log = _stance_ui(uri, tmp)
        with service:
            printed = log.read_text()
            links = _links(printed)
            assert "compare tfidf (" in printed and ") vs transformer (" in printed, printed
            runs = mlflow.search_runs(experiment_names=["stance-immigration"], output_format="list",
                                      order_by=["attributes.start_time DESC"])
            runs = [r for r in runs if "run_type" not in r.data.tags][:2]
            _check_runs_page(_render(links["runs"], tmp / "ui-runs-both-kinds.png"), runs)
            dom = _render(links["compare"], tmp / "ui-compare-both-kinds.png", size="1400,2000")
            page = _text(dom)
            assert "Comparing 2 Runs" in page
            for kind in ("tfidf", "transformer"):
                assert re.search(rf"{kind}\b[^<>|]*? seed=\d+", page), f"the compare page does not name the {kind} run"
            assert _plotted_metrics(dom) == headline_metrics(runs[0].data.metrics)[:1]


def test_the_comparison_run_page_names_the_winner_and_the_difference_above_the_fold(tiny_corpus, tracking_uri,
                                                                                    tmp_path, capsys):
    """`stance compare` logs a comparison run; `stance ui` links it first; its page, in a fresh profile and a
    900-pixel-high window, opens on the winner and the difference (the run's name) before anything else."""
    from stance.cli import main

    train(shrunk_config("baseline.yaml", tiny_corpus))
    train(shrunk_config("baseline.yaml", tiny_corpus, C=0.0001, class_weight=None))
    assert main(["compare", "--experiment", "stance-immigration", "--resamples", "200",
                 "--out", str(tmp_path / "cmp")]) == 0
    assert "comparison run " in capsys.readouterr().out
    comparison = mlflow.search_runs(experiment_names=["stance-immigration"], output_format="list",
                                    filter_string="tags.run_type = 'comparison'")[0]
    title = comparison.info.run_name
    assert re.fullmatch(r"tfidf C=1.0 class_weight=balanced is best: [+-]\d\.\d{3} test macro-F1 over tfidf C=0.0001 "
                        r"class_weight=None, 95% CI "
                        r"\[[+-]\d\.\d{3}, [+-]\d\.\d{3}\], (not )?significant", title), title
    note = comparison.data.tags["mlflow.note.content"]
    assert note.startswith("### Winner: tfidf C=") and "| winner " in note and "One seed, so no ±" in note
    logged = {f.path for f in mlflow.MlflowClient().list_artifacts(comparison.info.run_id, "comparison")}
    assert {"comparison/comparison.html", "comparison/per_label_f1.png", "comparison/comparison.md"} <= logged

    service, base, log = _stance_ui(tracking_uri, tmp_path)
    with service:
        printed = log.read_text()
        first = re.search(r"comparison \((.*)\):\n\s+(\S+)", printed)
        assert first and first.group(1) == title and printed.index("comparison (") < printed.index("training runs:")
        page = _text(_render(first.group(2), tmp_path / "ui-comparison-run.png", size="1400,900"))
        # The run's name is the page's heading: above the tabs, "About this run" and the Description (whose
        # names keep their underscores: escaped, not read as emphasis).
        assert page.index(title) < page.index("Overview") < page.index("About this run"), page[:3000]
        assert "Winner: tfidf C=1.0 class_weight=balanced" in page
