"""What a path that should be a readable file really is, so messages say "is a folder" rather than "not found"."""
from __future__ import annotations

import os
import stat
from pathlib import Path

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
