"""Hostile input, round two (issue 29, part B): data loss and silent wrong results.

Outputs never replace what is not a regular file, temporaries of killed writers go, rows with an unknown split
are never dropped, agreement compares two annotators, numbers in configs are finite and bounded, each
`stance evaluate` run has its own folder, and one annotator cannot label one log in two sessions at once.
"""
import os
import stat
import subprocess
import sys

import mlflow
import pandas as pd
import pytest

from conftest import ROOT, save_tiny_tfidf, shrunk_config, tiny_rows, write_jsonl
from stance.cli import main
from stance.config import ConfigError, DataConfig
from stance.data import load_data
from stance.data.labels import LabelLog
from stance.errors import DataError
from stance.runtime.files import atomic_write

LABELS = ["FAVOR", "AGAINST", "NONE"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_tfidf(tmp_path_factory.mktemp("tfidf") / "model")


# ---------------------------------------------------------------- data loss


def test_an_output_linked_to_a_device_or_pipe_is_refused_and_left_alone(model_dir, tmp_path, capsys):
    # A pipe needs no root; as root also a copy of /dev/null made with mknod, as in the issue.
    targets = [tmp_path / "pipe"]
    os.mkfifo(targets[0])
    if os.geteuid() == 0:
        targets.append(tmp_path / "null")
        os.mknod(targets[1], stat.S_IFCHR | 0o666, os.makedev(1, 3))
    for target in targets:
        link = tmp_path / f"out-{target.name}.jsonl"
        link.symlink_to(target)
        before = target.lstat().st_mode
        assert main(["predict", "--model", str(model_dir), "--output", str(link), "Deport every criminal alien."]) == 1
        err = capsys.readouterr().err
        assert f"{target}" in err and "not a file" in err and "only replace regular files" in err
        assert target.lstat().st_mode == before and not stat.S_ISREG(target.stat().st_mode)
        assert link.is_symlink()
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_regular_file_behind_a_link_is_still_written_through_it(model_dir, tmp_path):
    real = tmp_path / "real.jsonl"
    real.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    assert main(["predict", "--model", str(model_dir), "--output", str(link), "Build the wall."]) == 0
    assert link.is_symlink() and '"label"' in real.read_text()


def test_temporaries_of_a_killed_writer_are_removed_by_the_next_write(tmp_path):
    out = tmp_path / "out.jsonl"
    code = ("import os, sys; from stance.runtime.files import atomic_write\n"
            "with atomic_write(sys.argv[1]) as tmp:\n"
            "    tmp.write_text('x' * 100000); os.kill(os.getpid(), 9)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    assert subprocess.run([sys.executable, "-c", code, str(out)], env=env).returncode == -9
    assert len(list(tmp_path.glob(".out.jsonl.*.tmp"))) == 1  # what SIGKILL leaves
    with atomic_write(out) as tmp:
        tmp.write_text("done\n")
        held = tmp
    assert out.read_text() == "done\n" and not held.exists()
    assert not list(tmp_path.glob(".out.jsonl.*.tmp"))


def test_a_live_writers_temporary_is_kept(tmp_path):
    out = tmp_path / "out.jsonl"
    with atomic_write(out) as first:
        first.write_text("a")
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:  # a temporary named after a running process is not a dead writer's
            alive = tmp_path / f".out.jsonl.{proc.pid}.abc.tmp"
            alive.write_text("b")
            with atomic_write(out) as second:
                second.write_text("c")
            assert alive.exists() and first.exists()
        finally:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- splits


def _with_holdout(tmp_path, column="split"):
    rows = tiny_rows()
    rows[0] = {**rows[0], "split": "holdout"}
    if column != "split":
        rows = [{**{k: v for k, v in r.items() if k != "split"}, column: r["split"]} for r in rows]
    return write_jsonl(tmp_path / "with_holdout.jsonl", rows)


@pytest.mark.parametrize("split_column, expected", [
    ("split", "split 'holdout' is not train, dev or test"),
    (None, "has a column 'split' but data.split_column is None"),
    ("nosuch", "data.split_column 'nosuch' is not a column of the file"),
])
def test_rows_with_an_unknown_split_are_never_dropped(tmp_path, split_column, expected):
    path = _with_holdout(tmp_path)
    with pytest.raises(DataError) as e:
        load_data(DataConfig(path=str(path), split_column=split_column), seed=1)
    assert expected in str(e.value) and str(path) in str(e.value)


def test_a_named_split_column_is_used_and_the_default_still_draws_a_seeded_split(tmp_path):
    rows = [{**{k: v for k, v in r.items() if k != "split"}, "part": r["split"]} for r in tiny_rows()]
    path = write_jsonl(tmp_path / "part.jsonl", rows)
    data = load_data(DataConfig(path=str(path), split_column="part"), seed=1)
    assert sum(map(len, data.splits.values())) == len(rows)
    assert len(data.test) == sum(r["part"] == "test" for r in rows)
    plain = write_jsonl(tmp_path / "plain.jsonl", [{k: v for k, v in r.items() if k != "split"} for r in tiny_rows()])
    assert sum(map(len, load_data(DataConfig(path=str(plain)), seed=1).splits.values())) == len(rows)


def test_a_dev_share_too_small_for_one_row_names_the_setting(tmp_path):
    plain = write_jsonl(tmp_path / "plain.jsonl", [{k: v for k, v in r.items() if k != "split"} for r in tiny_rows()])
    with pytest.raises(DataError, match=r"data.dev_size=0.0001 of 36 rows leaves dev with no rows"):
        load_data(DataConfig(path=str(plain), dev_size=0.0001), seed=1)


# ---------------------------------------------------------------- agreement


def _log(path, annotator, labels):
    log = LabelLog(path, annotator)  # released when dropped, as by the end of a session
    for i, lab in enumerate(labels):
        log.add(f"p{i}", lab)


def test_agreement_on_one_file_with_two_annotators_needs_their_names(tmp_path, capsys):
    shared = tmp_path / "shared.jsonl"
    _log(shared, "ann", ["FAVOR", "AGAINST", "NONE"])
    _log(shared, "bob", ["AGAINST", "NONE", "FAVOR"])  # every item disagrees
    assert main(["annotate", "agreement", str(shared), str(shared)]) == 1
    assert "2 annotators (ann, bob); name one per side" in capsys.readouterr().err
    assert main(["annotate", "agreement", str(shared), str(shared), "--a-name", "ann", "--b-name", "bob"]) == 0
    assert "observed agreement 0.0%, 3 disagreements" in capsys.readouterr().out
    assert main(["annotate", "agreement", str(shared), str(shared), "--a-name", "ann", "--b-name", "ann"]) == 1
    assert "A and B are the same answers" in capsys.readouterr().err


def test_agreement_when_both_used_one_label_says_kappa_is_undefined(tmp_path, capsys):
    _log(tmp_path / "a.jsonl", "a", ["FAVOR"] * 3)
    _log(tmp_path / "b.jsonl", "b", ["FAVOR"] * 3)
    with __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("error")  # no raw RuntimeWarning from scikit-learn either
        assert main(["annotate", "agreement", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "kappa is undefined: every answer is FAVOR, observed agreement 100.0%" in out and "kappa nan" not in out


# ---------------------------------------------------------------- numbers in configs


@pytest.mark.parametrize("override, key", [
    ("tracking.register_if={min: .nan}", "tracking.register_if.min"),
    ("tracking.register_if={max_drop: .inf}", "tracking.register_if.max_drop"),
    ("model.C=.inf", "model.C"),
    ("data.dev_size=.nan", "data.dev_size"),
    ("seed=-1", "seed"),
    (f"seed={2**32}", "seed"),
])
def test_nan_infinity_and_impossible_numbers_are_refused_naming_the_key(tiny_corpus, override, key):
    with pytest.raises(ConfigError) as e:
        shrunk_config("baseline.yaml", tiny_corpus, (override,))
    assert f"\n  {key}: " in str(e.value)


@pytest.mark.parametrize("override, key", [
    ("model.epochs=.inf", "model.epochs"), ("model.weight_decay=.inf", "model.weight_decay"),
    ("model.batch_size=1000000", "model.batch_size"), ("model.num_threads=100000", "model.num_threads"),
])
def test_transformer_numbers_are_finite_and_bounded(tiny_corpus, override, key):
    with pytest.raises(ConfigError) as e:
        shrunk_config("transformer.yaml", tiny_corpus, (override,))
    assert f"\n  {key}: " in str(e.value)


def test_min_df_above_the_training_rows_fails_before_any_run(tiny_corpus, tracking_uri):
    from stance.workflows.training import train

    with pytest.raises(ConfigError, match=r"model.min_df=1000: .* only 24 training rows; lower model.min_df"):
        train(shrunk_config("baseline.yaml", tiny_corpus, min_df=1000))
    assert mlflow.search_runs(search_all_experiments=True).empty


# ---------------------------------------------------------------- evaluate


def test_each_evaluate_run_writes_its_files_in_a_folder_of_its_own(model_dir, tiny_corpus, tracking_uri, tmp_path,
                                                                 capsys):
    from stance.config import TfidfConfig
    from stance.models import build

    # A second model that learned FAVOR and AGAINST the wrong way round: its predictions differ.
    swap = {"FAVOR": "AGAINST", "AGAINST": "FAVOR", "NONE": "NONE"}
    rows = pd.DataFrame([{**r, "label": swap[r["label"]]} for r in tiny_rows()])
    other = build(TfidfConfig(), LABELS, 13)
    other.fit(rows, rows)
    other.save(tmp_path / "other")
    out = tmp_path / "ev"
    for model in (model_dir, tmp_path / "other"):
        assert main(["evaluate", "--model", str(model), "--data", str(tiny_corpus), "--out", str(out)]) == 0
    runs = mlflow.search_runs(experiment_names=["stance-evaluate"], output_format="list")
    assert len(runs) == 2 and sorted(p.name for p in out.iterdir()) == sorted(r.info.run_id for r in runs)
    for r in runs:
        mine = pd.read_csv(out / r.info.run_id / "predictions_eval.csv")
        logged = mlflow.artifacts.download_artifacts(run_id=r.info.run_id, artifact_path="eval/predictions_eval.csv")
        pd.testing.assert_frame_equal(pd.read_csv(logged), mine)
    first, second = (pd.read_csv(out / r.info.run_id / "predictions_eval.csv")["predicted"] for r in runs)
    assert (first != second).any()
    assert f"files: {out / runs[0].info.run_id}" in capsys.readouterr().out


def test_evaluate_out_that_is_a_file_fails_before_any_run(model_dir, tiny_corpus, tracking_uri, tmp_path, capsys):
    (tmp_path / "taken").write_text("mine\n")
    assert main(["evaluate", "--model", str(model_dir), "--data", str(tiny_corpus),
                 "--out", str(tmp_path / "taken")]) == 2
    assert "--out" in capsys.readouterr().err and (tmp_path / "taken").read_text() == "mine\n"
    assert mlflow.search_runs(search_all_experiments=True).empty


# ---------------------------------------------------------------- one labelling session per annotator


_ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def _hold_log_in_another_process(log, annotator: str) -> subprocess.Popen:
    """Another process that opens the label log as `annotator` and keeps it open (30 s, or until killed)."""
    code = ("import sys, time; from stance.data.labels import LabelLog\n"
            f"with LabelLog(sys.argv[1], {annotator!r}):\n    print('holding', flush=True); time.sleep(30)\n")
    other = subprocess.Popen([sys.executable, "-c", code, str(log)], env=_ENV, stdout=subprocess.PIPE, text=True)
    assert other.stdout.readline().strip() == "holding"
    return other


def test_one_annotator_cannot_label_one_log_in_two_sessions_at_once(tmp_path):
    log = tmp_path / "labels.jsonl"
    other = _hold_log_in_another_process(log, "ann")
    try:
        with pytest.raises(DataError, match="annotator 'ann' is labelling in another session right now"):
            LabelLog(log, "ann")
        with LabelLog(log, "bob") as bob:  # another annotator writes beside it
            bob.add("p0", "FAVOR")
    finally:
        other.kill()
        other.wait()
    with LabelLog(log, "ann") as ann:  # the lock went with the process
        ann.add("p0", "NONE")
    assert [line.count('"annotator"') for line in log.read_text().splitlines()] == [1, 1]


def test_import_takes_the_same_lock_and_one_process_shares_it(tmp_path):
    from stance.workflows.annotate import import_batch

    log = tmp_path / "labels.jsonl"
    batch = write_jsonl(tmp_path / "batch.jsonl", [{"id": "p0", "label": "FAVOR"}])
    other = _hold_log_in_another_process(log, "ann")
    try:
        with pytest.raises(DataError, match="labelling in another session"):
            import_batch(str(batch), str(log), "ann", track=False)
    finally:
        other.kill()
        other.wait()
    with LabelLog(log, "ann"):  # in one process, logs of one annotator share the lock (several model versions)
        assert import_batch(str(batch), str(log), "ann", track=False).added == 1
    held = LabelLog(log, "ann")
    del held  # dropped without close(): its share goes back, so another process can take the lock
    done = subprocess.run([sys.executable, "-c", "import sys; from stance.data.labels import LabelLog; "
                           "LabelLog(sys.argv[1], 'ann').add('p1', 'NONE')", str(log)], env=_ENV)
    assert done.returncode == 0
