"""Progress lines for a person watching a run: one line each on stderr, credentials masked."""
from __future__ import annotations

import os
import sys

from .masking import mask

# Set by `--verbose` (stance train): third-party INFO lines and progress bars (MLflow's, transformers') are shown.
VERBOSE = "STANCE_VERBOSE"


def verbose() -> bool:
    return bool(os.environ.get(VERBOSE))


def say(msg: str) -> None:
    print(f"[stance] {mask(msg)}", file=sys.stderr, flush=True)
