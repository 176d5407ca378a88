"""The one CSV rule: cells a spreadsheet would run as a formula are escaped (CSV injection, as OWASP recommends).

A text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so a spreadsheet
shows it as text instead of running `=HYPERLINK(...)` or `=cmd|...`; the csv module quotes cells holding
separators or quotes. Numbers stay numbers. Reading a CSV takes the `'` off again (`unescape_cell`), so what
stance writes reads back as it was; JSON lines and Parquet keep every text as is.
"""
from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """A text cell a spreadsheet would take for a formula, prefixed with `'`; anything else unchanged."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def unescape_cell(value: str) -> str:
    """The text `escape_cell` was given (a CSV cell read back)."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


def escape_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: escape_cell(v) for k, v in row.items()}


def write_frame(frame: Any, path: Any, **to_csv: Any) -> None:
    """A pandas DataFrame to CSV with every text cell escaped (index off unless asked for)."""
    escaped = frame.copy()
    for column in escaped.columns:
        if escaped[column].dtype.kind in "OSU":  # object and string columns; numbers stay as they are
            escaped[column] = escaped[column].map(escape_cell)
    # Lines end in CRLF (RFC 4180, as the csv module writes predict's CSV): a cell holding a lone CR is then quoted.
    escaped.to_csv(path, **{"index": False, "lineterminator": "\r\n", **to_csv})
