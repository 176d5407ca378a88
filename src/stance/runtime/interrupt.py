"""Ctrl-C and SIGTERM end a run cleanly instead of killing the process mid-write.

Outside a cooperative section the signal raises `Interrupted` at once (the MLflow run then ends KILLED).
Inside one (fine-tuning), the first signal only sets a flag: the training loop saves a checkpoint at the
end of the current step and stops, so `stance train CONFIG --resume RUN_ID` can continue from there.
A second signal raises at once.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

_state: dict = {"signal": None, "cooperative": 0}


class Interrupted(KeyboardInterrupt):
    def __init__(self, signame: str, detail: str = ""):
        super().__init__(f"interrupted by {signame}" + (f": {detail}" if detail else ""))
        self.signame = signame


def requested() -> str | None:
    """The name of the signal received inside a cooperative section, if any."""
    return _state["signal"]


def _handler(signum, frame) -> None:
    name = signal.Signals(signum).name
    if _state["cooperative"] and _state["signal"] is None:
        _state["signal"] = name
        return
    raise Interrupted(name)


@contextlib.contextmanager
def handle_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise Interrupted (or set the flag, see `cooperative`) while inside."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    old = {s: signal.signal(s, _handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        _state["signal"] = None


@contextlib.contextmanager
def cooperative() -> Iterator[None]:
    """Inside: the first signal sets a flag that the training loop polls (see `requested`)."""
    _state["cooperative"] += 1
    try:
        yield
    finally:
        _state["cooperative"] -= 1
