"""Progress lines for a person watching a run: one line each on stderr, credentials masked."""
from __future__ import annotations

import sys

from .masking import mask


def say(msg: str) -> None:
    print(f"[stance] {mask(msg)}", file=sys.stderr, flush=True)
