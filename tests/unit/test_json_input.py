"""The bounded JSON parser every outside input goes through (chalicelib/domain/json_input.py)."""
import json
import random
import time

import pytest

from chalicelib.domain.json_input import MAX_DEPTH, MalformedJSON, depth, parse


def _true_depth(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(_true_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_true_depth, value.values()), default=0)
    return 0


def _random_json(rng: random.Random, level: int = 0):
    """Values whose strings are full of brackets, quotes and backslashes."""
    if level > 8 or rng.random() < 0.3:
        return rng.choice(["[", "]", "{", "}", '"', "\\", '\\"[', 1, None, "a]b", "\u0000", "é{\n", "\ud800"])
    if rng.random() < 0.5:
        return [_random_json(rng, level + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["k", "[", '}"', "\\"]): _random_json(rng, level + 1) for _ in range(rng.randint(0, 3))}


def test_depth_counts_only_the_brackets_outside_strings():
    rng = random.Random(14)
    for _ in range(3000):
        value = _random_json(rng)
        text = json.dumps(value, ensure_ascii=rng.random() < 0.5)
        assert depth(text) == _true_depth(value), text


@pytest.mark.parametrize("raw", [b"[" * 3000, "[" * 3000, "{\"a\":" * 3000, b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
                                 "[" * 500 + "]" * 500, '{"a": [{"b": ' * 17 + "1" + "}]" * 17 + "}"])
def test_nesting_deeper_than_the_bound_is_refused_before_parsing(raw):
    with pytest.raises(MalformedJSON) as caught:
        parse(raw)
    assert caught.value.problem == f"nests deeper than {MAX_DEPTH} levels"


def test_nesting_up_to_the_bound_is_parsed():
    assert parse("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert parse(b'{"a": "' + b"[" * 5000 + b'"}') == {"a": "[" * 5000}
    assert parse("[" * 4 + "]" * 4, max_depth=4) == [[[[]]]]
    with pytest.raises(MalformedJSON):
        parse("[" * 5 + "]" * 5, max_depth=4)


@pytest.mark.parametrize("raw, problem", [
    (b"{", "is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    (b'{"a": 1}}', "is not valid JSON: Extra data: line 1 column 9 (char 8)"),
    (b"", "is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
    (b'["' + b"[" * 3000, "is not valid JSON: Unterminated string starting at: line 1 column 2 (char 1)"),
    (b'{"a": "\xff"}', "is not valid JSON: not UTF-8 text"),
])
def test_invalid_json_names_the_problem(raw, problem):
    with pytest.raises(MalformedJSON) as caught:
        parse(raw)
    assert caught.value.problem == problem
    assert isinstance(caught.value, ValueError)  # callers that catch ValueError keep working


def test_bytes_are_read_like_json_loads_reads_them():
    for raw in (b'\xef\xbb\xbf{"a": 1}', '{"a": 1}'.encode("utf-16"), b'"\\ud800"', '"é"'.encode()):
        assert parse(raw) == json.loads(raw)


def test_the_scan_stays_linear_on_hostile_strings():
    """Unterminated strings, escapes and brackets never make the scan quadratic (64 KiB each)."""
    for text in ('["\\"' * 16000, '"' + "\\" * 64000, "[]" * 32000, '["' + "[" * 64000, '{"a": "' * 9000):
        started = time.perf_counter()
        with pytest.raises(MalformedJSON):
            parse(text)
        assert time.perf_counter() - started < 0.5, text[:20]
