"""JSON from outside (request bodies, cursors, queue messages), parsed with bounded nesting.

`json.loads` recurses once per level and raises RecursionError (not ValueError) near Python's
recursion limit, so `[` repeated a few thousand times escaped every `except ValueError`. Input
nested deeper than MAX_DEPTH is refused before it is parsed: DynamoDB stores no deeper
document either, and no body, cursor or message of Roster comes close.
"""
from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 32

# A JSON string (an unterminated one runs to the end: no match ever fails, so the scan stays
# linear), or a run of anything but brackets and quotes: removing both leaves the brackets
# outside strings.
_NOT_NESTING = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\\?\Z)|[^\[\]{}"]+', re.DOTALL)
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class MalformedJSON(ValueError):
    """`problem` says what is wrong, in the words of an error detail ("is not valid JSON: …")."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


def depth(text: str) -> int:
    """How deep arrays and objects nest in `text` (0 for a scalar); meaningful for valid JSON."""
    return max(accumulate(map(_STEP.__getitem__, _NOT_NESTING.sub("", text)), initial=0))


def parse(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in `raw` (bytes in any encoding json.loads detects), or MalformedJSON."""
    try:
        text = raw.decode(json.detect_encoding(raw), "surrogatepass") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise MalformedJSON("is not valid JSON: not UTF-8 text") from None
    if text.count("[") + text.count("{") > max_depth and depth(text) > max_depth:
        raise MalformedJSON(f"nests deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise MalformedJSON(f"is not valid JSON: {error}") from None
