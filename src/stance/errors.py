"""The errors the CLI reports as one line, in a module with no imports, so `stance --help` stays fast.

They are re-exported where they are raised (stance.config, stance.data.readers); import them from there.
"""
from __future__ import annotations


class ConfigError(ValueError):
    """A configuration problem, named precisely (file, key, nearest valid key)."""


class DataError(ValueError):
    """A problem with input data; the message names file, line and column."""

    def __init__(self, problems: list[str] | str, *, limit: int = 20):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        shown = self.problems[:limit]
        more = len(self.problems) - len(shown)
        msg = "\n  ".join(shown) + (f"\n  ... and {more} more problems" if more > 0 else "")
        if len(self.problems) > 1:
            msg = f"{len(self.problems)} problems:\n  " + msg
        super().__init__(msg)
