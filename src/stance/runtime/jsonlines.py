"""The one JSON-lines rule: where a line ends, a byte-order mark, what a bad line reports."""
from __future__ import annotations

import json
from typing import Any, Iterable, Iterator


def json_lines(lines: Iterable[str]) -> Iterator[tuple[int, Any, json.JSONDecodeError | None]]:
    """The one JSON-lines rule, for training data, pools, label logs and `stance predict`: (line number, value,
    None), or (line number, None, the error), per non-blank line. `lines` come from a text stream with universal
    newlines (\\n, \\r\\n or \\r end a line; none of them can be inside a JSON string), never from str.splitlines(),
    which also splits at U+2028, U+0085 and other characters valid inside JSON strings. A UTF-8 byte-order mark
    before the first line is skipped.
    """
    for n, line in enumerate(lines, 1):
        if n == 1:
            line = line.removeprefix("\ufeff")
        if not line.strip():
            continue
        try:
            yield n, json.loads(line), None
        except json.JSONDecodeError as e:
            yield n, None, e
