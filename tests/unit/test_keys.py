"""Keys read back: what an item does not store twice."""


def test_a_notice_delivery_s_ids_are_read_back_from_its_keys():
    from chalicelib.models import keys
    from chalicelib.models.notices import NoticeDeliveryItem

    item = NoticeDeliveryItem(keys.notice_deliveries("tenant_a1", "notice_b2"),
                              keys.notice_delivery("reminder#60#2026-12-01T10:00", "person_c3"),
                              email_key=keys.SES_MESSAGE_PREFIX + "0100-abc")
    assert (item.tenant_id, item.notice_id, item.event_key, item.person_id, item.ses_message_id) == (
        "tenant_a1", "notice_b2", "reminder#60#2026-12-01T10:00", "person_c3", "0100-abc")
    assert NoticeDeliveryItem(item.pk, item.sk).ses_message_id is None
