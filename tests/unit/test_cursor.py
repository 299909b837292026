import base64

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.repositories import cursor


def test_round_trip():
    key = {"pk": {"S": "T#ten_a#A#acc_b"}, "sk": {"S": "M#per_c"}}
    token = cursor.encode(key)
    assert "T#" not in token
    assert cursor.decode(token, "pk", "T#ten_a#A#acc_b") == key


@pytest.mark.parametrize("token", ["%%%", "bm90IGpzb24", cursor.encode({"pk": {"S": "T#ten_other#A#acc_b"}}),
                                   cursor.encode({"pk": {"S": "T#ten_a#A#acc_b"}, "sk": {"M": {}}}),
                                   cursor.encode({"pk": {"S": "T#ten_a#A#acc_b"}, "sk": {"S": 5}})])
def test_foreign_or_forged_cursors_are_refused(token):
    with pytest.raises(InvalidInput) as caught:
        cursor.decode(token, "pk", "T#ten_a#A#acc_b")
    assert caught.value.details[0].field == "cursor"


def test_a_cursor_of_deep_json_is_refused():
    for raw in (b"[" * 3000, b'{"pk": {"S": ' + b"[" * 40 + b"]" * 40 + b"}}"):
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        with pytest.raises(InvalidInput) as caught:
            cursor.decode(token, "pk", "T#ten_a#A#acc_b")
        assert caught.value.code == "invalid_cursor"


def test_no_cursor_means_first_page():
    assert cursor.encode(None) is None and cursor.decode(None, "pk", "x") is None
