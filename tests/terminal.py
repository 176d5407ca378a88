"""Run the CLI with one of its streams on a pseudo-terminal, as in an interactive shell."""
from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios


def run_on_a_terminal(args: list[str], stream: str = "stdout", columns: int = 80) -> tuple[int, str]:
    """`stance ARGS` with `stream` (stdout or stderr) on a terminal `columns` wide: (rc, what it showed)."""
    leader, follower = pty.openpty()
    # A fresh pty is 0x0, which tqdm and the predict printer read as "no room"; give it a real size.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    streams = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, stream: follower}
    proc = subprocess.Popen([sys.executable, "-m", "stance.cli", *args], **streams)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
