"""Label statements one at a time in a terminal: single keys, every answer appended to the label log at once.

Keys: f FAVOR, a AGAINST, n NONE, then confidence 1/2/3 (Enter = 3); s skip, u undo the last answer,
q quit. Ctrl-C, a crash or a closed laptop loses nothing but the answer being typed; running the same
command again resumes after the last answered statement (this annotator's answers are skipped).
"""
from __future__ import annotations

import contextlib
import sys
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Iterator

from ..data.labels import LabelLog

KEYS = {"f": "FAVOR", "a": "AGAINST", "n": "NONE"}
HELP = "[f] FAVOR  [a] AGAINST  [n] NONE  then confidence [1] [2] [3] (Enter = 3)   [s] skip  [u] undo  [q] quit"


@dataclass
class Item:
    id: str
    text: str
    suggestion: str | None = None
    scores: dict[str, float] = field(default_factory=dict)


@dataclass
class SessionResult:
    answered: int
    skipped: int
    undone: int
    counts: Counter
    quit_early: bool


@contextlib.contextmanager
def _cbreak(stream: IO[str]) -> Iterator[None]:
    """Single key presses on a terminal (no Enter needed); plain line reading otherwise (pipes, tests)."""
    if not stream.isatty():
        yield
        return
    import termios
    import tty

    fd = stream.fileno()
    old = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


def _keys(stream: IO[str]) -> Iterator[str]:
    """One key at a time; whitespace other than Enter is ignored; end of input is 'q'."""
    while True:
        ch = stream.read(1)
        if ch == "":
            yield "q"
            return
        if ch in ("\n", "\r"):
            yield "\n"
        elif not ch.isspace():
            yield ch.lower()


def _show(item: Item, pos: int, n: int, counts: Counter, show_suggestion: bool, out: IO[str]) -> None:
    """The item, the session's tally so far and the model's suggestion, then the label prompt."""
    done = sum(counts.values())
    tally = " ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(f"\n[{pos + 1}/{n}] labelled {done} this session{': ' + tally if tally else ''}  id {item.id}", file=out)
    print(textwrap.fill(item.text, width=100, initial_indent="  ", subsequent_indent="  "), file=out)
    if show_suggestion and item.suggestion:
        scores = " ".join(f"{k}={v:.2f}" for k, v in item.scores.items())
        print(f"  model suggests {item.suggestion} {scores}".rstrip(), file=out)
    print("label> ", end="", file=out, flush=True)


def _confidence_key(label: str, keys: Iterator[str], out: IO[str]) -> str:
    """1, 2, 3, Enter (= 3) or q; any other key asks again."""
    print(f"{label}  confidence> ", end="", file=out, flush=True)
    c = next(keys)
    while c not in ("1", "2", "3", "\n", "q"):
        print("press 1, 2 or 3 (Enter = 3)> ", end="", file=out, flush=True)
        c = next(keys)
    return c


def run_session(items: list[Item], log: LabelLog, *, stdin: IO[str] | None = None, stdout: IO[str] | None = None,
                show_suggestion: bool = True, adjudicate: bool = False) -> SessionResult:
    """Ask for a label for each item in order; answers are appended to `log` as they are given.

    adjudicate: the answers settle disagreements (marked "adjudicated": true, so they win when resolving)."""
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    counts: Counter = Counter()
    history: list[int] = []  # positions answered in this session, for undo
    given: dict[str, str] = {}  # id -> label answered in this session
    answered = skipped = undone = 0
    pos = 0
    with _cbreak(stdin):
        keys = _keys(stdin)
        print(HELP, file=out)
        while pos < len(items):
            item = items[pos]
            _show(item, pos, len(items), counts, show_suggestion, out)
            key = next(keys)
            while key == "\n":
                key = next(keys)
            if key == "q":
                print("quit: every answer so far is saved", file=out)
                return SessionResult(answered, skipped, undone, counts, quit_early=True)
            if key == "s":
                skipped += 1
                pos += 1
                continue
            if key == "u":
                if not history:
                    print("nothing to undo in this session", file=out)
                    continue
                pos = history.pop()
                last = items[pos]
                log.undo(last.id)
                counts[given.pop(last.id)] -= 1
                counts += Counter()  # drop zero counts
                undone += 1
                print(f"undone: {last.id}", file=out)
                continue
            if key not in KEYS:
                print(f"unknown key {key!r}. {HELP}", file=out)
                continue
            label = KEYS[key]
            c = _confidence_key(label, keys, out)
            if c == "q":  # input ended or the user quit before a confidence: nothing half-written
                print("quit: every answer so far is saved", file=out)
                return SessionResult(answered, skipped, undone, counts, quit_early=True)
            confidence = 3 if c == "\n" else int(c)
            log.add(item.id, label, confidence, suggestion=item.suggestion, **({"adjudicated": True} if adjudicate else {}))
            given[item.id] = label
            counts[label] += 1
            answered += 1
            history.append(pos)
            pos += 1
    print(f"\nall {len(items)} statements done", file=out)
    return SessionResult(answered, skipped, undone, counts, quit_early=False)

