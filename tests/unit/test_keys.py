"""Keys read back: what an item does not store twice."""


def test_a_notice_batch_s_event_is_read_back_from_its_key():
    from chalicelib.models import keys

    batch = keys.notice_batch("reminder#60#2026-12-01T10:00", 7)
    assert batch == "reminder#60#2026-12-01T10:00#00007"
    assert keys.event_of_batch(batch) == "reminder#60#2026-12-01T10:00"
