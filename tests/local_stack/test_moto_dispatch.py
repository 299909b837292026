"""moto's server remembers its service modules (infra/local_stack/moto_dispatch.py)."""
from __future__ import annotations

import os


def test_the_listing_is_moto_s_own_and_read_once(monkeypatch):
    from moto import backends

    from infra.local_stack import moto_dispatch

    listing = sorted(backends.list_of_moto_modules())  # moto's own (the patch keeps the first one)
    assert "dynamodb" in listing and "ses" in listing and "sqs" in listing
    moto_dispatch.install()
    looked = []
    monkeypatch.setattr(os.path, "isdir", lambda path: looked.append(path) or True)
    assert sorted(backends.list_of_moto_modules()) == listing
    assert looked == []  # no directory listed again
