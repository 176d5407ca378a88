"""One writer per run: a run's output folder is locked while it trains, so `--resume RUN` of a run that another
process is still training fails at once instead of two processes writing one run and one folder.

The lock is an OS file lock (flock via `filelock`): it goes away with the process that holds it, so a run
whose process crashed or was killed can be resumed at once.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from filelock import FileLock, Timeout

LOCK_FILE = ".lock"


class RunBusyError(RuntimeError):
    """Another process is training this run right now."""


@contextlib.contextmanager
def hold(folder: Path, run_id: str) -> Iterator[None]:
    """Hold the lock of `folder` (the run's output folder) while inside; refuse at once if it is taken."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / LOCK_FILE, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise RunBusyError(f"run {run_id} is being trained by another process right now (it holds "
                           f"{folder / LOCK_FILE}); wait for it to finish or stop it, then resume") from None
    try:
        yield
    finally:
        lock.release()


class BusyError(RuntimeError):
    """Another process holds this lock right now."""


def take(lock_file: Path, busy: str) -> FileLock:
    """An OS lock on `lock_file`, taken at once or BusyError(`busy`) when another process holds it; released by
    `.release()` or when the process ends (a killed holder never blocks the next one). Within one process the
    takers of one file share it (counted): the exclusion is between processes."""
    lock = FileLock(lock_file, timeout=0, is_singleton=True)
    try:
        lock.acquire()
    except Timeout:
        raise BusyError(busy) from None
    return lock
