"""The invitation link: the ids it names and its secret, parsed back exactly, anything else refused."""
from __future__ import annotations

import pytest

from chalicelib.domain.ids import new_id
from chalicelib.domain.invitations import LinkKeys, link_keys, new_token


def keys(inviter: bool) -> LinkKeys:
    return LinkKeys(new_id("tenant"), new_id("account"), new_id("invitation"), new_id("person"),
                    new_id("person") if inviter else None)


@pytest.mark.parametrize("inviter", [False, True])
def test_a_new_token_names_its_keys_and_a_fresh_secret(inviter):
    named = keys(inviter)
    first, second = new_token(named), new_token(named)
    assert link_keys(first) == named == link_keys(second)
    assert first != second
    assert len(first.split(".")[-1]) == 43


@pytest.mark.parametrize("token", [
    "", "x" * 43, "short", ".".join(["a" * 16] * 4),
    ".".join(["a" * 16] * 3 + ["A" * 43]),  # three ids
    ".".join(["a" * 16] * 6 + ["A" * 43]),  # six ids
    ".".join(["a" * 15] * 4 + ["A" * 43]),  # an id one short
    ".".join(["a" * 16] * 3 + ["a" * 15 + "1"] + ["A" * 43]),  # 1 is no base32 character
    ".".join(["a" * 16] * 4 + ["A" * 42]),  # a secret one short
    ".".join(["a" * 16] * 4 + ["A" * 42 + "+"]),  # + is not URL-safe base64
    ".".join(["a" * 16] * 4 + ["A" * 43]) + "\n",
])
def test_anything_else_names_no_keys(token):
    assert link_keys(token) is None
