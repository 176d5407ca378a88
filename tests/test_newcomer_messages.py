"""Issue 30's smaller items: messages and help a newcomer meets first (each failed on the main before the fix)."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from stance.cli import build_parser, main
from stance.config import load_config
from stance.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_unknown_nested_key_suggests_the_whole_dotted_key():
    with pytest.raises(ConfigError) as e:
        load_config(ROOT / "configs/baseline.yaml", ["model.c=2"])
    assert "unknown key 'model.c'; did you mean 'model.C'?" in str(e.value)


def test_a_copied_config_names_its_relative_base(tmp_path):
    copy = shutil.copy(ROOT / "configs/baseline.yaml", tmp_path / "mine.yaml")
    with pytest.raises(ConfigError) as e:
        load_config(copy)
    message = str(e.value)
    assert "'base: data/immigration.yaml'" in message and str(tmp_path / "data/immigration.yaml") in message
    assert "relative to the config's own folder" in message


def test_ui_refuses_a_named_sqlite_store_that_does_not_exist(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    proc = subprocess.Popen([sys.executable, "-m", "stance.cli", "ui", "--port", port, "--tracking-uri",
                             "sqlite:///nope/x.db"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # the server started on an empty store: the defect this test is about
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate()
        pytest.fail("stance ui started a server on a store that does not exist")
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    assert done.returncode != 0
    assert "no MLflow store at nope/x.db" in done.stderr and "Ctrl-C" not in done.stdout
    assert not (tmp_path / "nope").exists()  # nothing created


def test_ui_port_zero_is_not_a_port():
    # (the port check runs first: this also shows that the store check never hides it)
    assert main(["ui", "--port", "0", "--tracking-uri", "sqlite:///nope/x.db"]) != 0


@pytest.mark.parametrize("command, option", [("demo", "configs"), ("demo", "--examples"), ("demo", "--set"),
                                             ("evaluate", "--text-column"), ("evaluate", "--label-column"),
                                             ("evaluate", "--target-column"), ("ui", "--port")])
def test_every_option_a_newcomer_meets_has_help(command, option):
    sub = next(a for a in build_parser()._actions if a.dest == "command" or getattr(a, "choices", None))
    action = next(a for a in sub.choices[command]._actions if option in a.option_strings or a.dest == option)
    assert action.help and len(action.help) > 10, (command, option)
    if option == "--port":
        assert "%(default)s" in action.help
