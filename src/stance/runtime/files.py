"""Files: what a path that should be a readable file really is (so messages say "is a folder" rather than "not
found"), the format a suffix names, and the one way a file is written: through a temporary file renamed into place."""
from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Iterator

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"))


def file_problem(path: str | os.PathLike) -> str | None:
    """None for a regular file (or a link to one); else 'not found', or what the path is instead.

    Reading a device such as /dev/zero would never end, so only regular files are read.
    """
    try:
        mode = Path(path).stat().st_mode
    except FileNotFoundError:
        return "not found"
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return f"is {kind}, not a file"


def require_file(path: str | os.PathLike, what: str, error: type[Exception]) -> Path:
    """`path` if it is a regular file; else `error` naming it: '<what> not found: P' or '<what> P is a folder, ...'."""
    why = file_problem(path)
    if why == "not found":
        raise error(f"{what} not found: {path}")
    if why is not None:
        raise error(f"{what} {path} {why}")
    return Path(path)


# ---------------------------------------------------------------- formats by suffix

SUFFIXES: dict[str, tuple[str, ...]] = {"csv": (".csv",), "tsv": (".tsv", ".txt"),
                                        "jsonl": (".jsonl", ".json", ".ndjson"), "parquet": (".parquet", ".pq")}


def format_of(path: str | os.PathLike, fmt: str = "auto", allowed: tuple[str, ...] | None = None) -> str | None:
    """The file format the suffix names (csv, tsv, jsonl, parquet); `fmt` other than auto is taken as given.
    None when the suffix names no format, or one outside `allowed`: the caller says what it accepts."""
    if fmt != "auto":
        return fmt
    suffix = Path(path).suffix.lower()
    found = next((name for name, suffixes in SUFFIXES.items() if suffix in suffixes), None)
    return found if allowed is None or found in allowed else None


# ---------------------------------------------------------------- the one atomic write


_TMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp$")  # .NAME.PID.RANDOM.tmp


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def clean_dead_temporaries(final: Path) -> list[Path]:
    """Remove the temporary files of earlier writes of `final` whose writer is gone (killed, crashed): they are
    named after the writer's process id, so a writer still running keeps its own."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in final.parent.glob(f".{glob.escape(final.name)}.*.tmp"):
            m = _TMP.match(entry.name)
            if m and m["name"] == final.name and int(m["pid"]) != os.getpid() and not _alive(int(m["pid"])):
                entry.unlink(missing_ok=True)
                removed.append(entry)
    return removed


def _writable_target(path: str | os.PathLike) -> Path:
    """The file a write to `path` replaces (through a link, the file it names); refused unless it is absent or a
    regular file: renaming over a device, pipe or socket would replace it (a link to /dev/null, as root, would
    replace the system's /dev/null)."""
    final = Path(os.path.realpath(path))
    if os.path.lexists(final):
        why = file_problem(final)
        if why is not None:
            through = f" (through the link {path})" if str(final) != os.path.abspath(path) else ""
            raise FileExistsError(f"{final}{through} {why}; outputs only replace regular files: give another name")
    return final


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, *, overwrite: bool = True) -> Iterator[Path]:
    """A temporary path in the folder of `path` (through a link, the file it names) to write; when the block ends
    without an error it is synced and renamed into place, else removed: a failure half-way leaves `path` as it was.

    overwrite=True replaces an existing regular file (keeping its permissions); overwrite=False never does, not
    even one that appeared while writing (FileExistsError). Anything else there (a device, a pipe, a folder) is
    never replaced. Temporaries left by writers that were killed are removed first.
    """
    final = _writable_target(path)
    if not overwrite and final.exists():
        raise FileExistsError(f"{path} already exists (existing files are never overwritten)")
    final.parent.mkdir(parents=True, exist_ok=True)
    clean_dead_temporaries(final)
    fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.{os.getpid()}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())  # on disk before the rename makes it the only copy
        if overwrite:
            _writable_target(final)  # still a regular file (or absent) now that the data is written
            if final.exists():
                shutil.copymode(final, tmp)  # the replaced file's permissions, not the temporary file's
            os.replace(tmp, final)
        else:
            os.link(tmp, final)  # fails if `final` appeared meanwhile: never replaces a file
    finally:
        tmp.unlink(missing_ok=True)
