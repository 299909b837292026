"""Light rows (repositories/rows.py): the same items PynamoDB's models read, only the fields asked."""
from __future__ import annotations

import pytest
from pynamodb.attributes import UnicodeAttribute

from chalicelib import bootstrap
from chalicelib.models.base import RosterModel
from chalicelib.repositories import rows


class Thing(RosterModel):
    name = UnicodeAttribute()
    colour = UnicodeAttribute(null=True)
    size = UnicodeAttribute(null=True)


@pytest.fixture
def things(aws):
    bootstrap.get_repositories()  # binds the models to the table
    with Thing.batch_write() as batch:
        for n in range(250):
            batch.save(Thing("THINGS", f"t{n:03d}", name=f"thing {n}", colour="red" if n % 2 else None, size="L"))
    return [(("THINGS", f"t{n:03d}")) for n in range(250)]


def test_a_query_reads_rows_of_the_fields_asked_page_by_page(things):
    read = list(rows.query(Thing, "THINGS", ["name", "colour"], range_key_condition=Thing.sk.startswith("t1"),
                           filter_condition=Thing.size == "L"))
    models = list(Thing.query("THINGS", Thing.sk.startswith("t1"), filter_condition=Thing.size == "L"))
    assert [(r.name, r.colour) for r in read] == [(m.name, m.colour) for m in models] and len(read) == 100
    assert not hasattr(read[0], "size")
    assert len(list(rows.query(Thing, "THINGS", ["name"]))) == 250


def test_a_batch_get_reads_every_key_once_and_leaves_missing_items_out(things):
    asked = things[::-1] + things[:10] + [("THINGS", "missing")]
    read = rows.batch_get(Thing, asked, ["name"])
    assert sorted(r.name for r in read) == sorted(f"thing {n}" for n in range(250))


def test_a_batch_get_asks_again_for_the_keys_dynamodb_left_unprocessed(things, monkeypatch):
    """moto never leaves keys unprocessed; here its answers hold back all but the first key."""
    connection = Thing._get_connection()
    real, requests = connection.batch_get_item, []

    def holding_back(keys, **kwargs):
        requests.append(len(keys))
        answer = real(keys[:1], **kwargs)
        if len(keys) > 1:
            answer["UnprocessedKeys"] = {Thing.Meta.table_name: {"Keys": keys[1:]}}
        return answer

    monkeypatch.setattr(connection, "batch_get_item", holding_back)
    pauses = []
    read = rows.batch_get(Thing, things[:8], ["name"], sleep=pauses.append)
    assert sorted(r.name for r in read) == sorted(f"thing {n}" for n in range(8))
    assert requests == [8, 7, 6, 5, 4, 3, 2, 1]
    assert pauses == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]  # doubling, up to a second


def test_a_batch_get_of_more_than_100_keys_asks_100_at_a_time(things, monkeypatch):
    connection = Thing._get_connection()
    real, requests = connection.batch_get_item, []
    monkeypatch.setattr(connection, "batch_get_item", lambda keys, **kw: requests.append(len(keys)) or real(keys, **kw))
    assert len(rows.batch_get(Thing, things, ["name"])) == 250
    assert requests == [100, 100, 50]


def test_a_raw_batch_get_reads_items_of_any_type_whole(things):
    class Other(RosterModel):
        label = UnicodeAttribute()

    Other("OTHER", "o1", label="not a thing").save()
    read = rows.batch_get_raw(Thing, [things[1], ("OTHER", "o1"), ("OTHER", "missing")])
    by_key = {(raw["pk"]["S"], raw["sk"]["S"]): raw for raw in read}
    assert set(by_key) == {things[1], ("OTHER", "o1")}
    assert by_key[things[1]]["colour"] == {"S": "red"} and by_key[things[1]]["size"] == {"S": "L"}
    assert Other.from_raw_data(by_key[("OTHER", "o1")]).label == "not a thing"


# --- raw_writer: plain values → the item a saved model would be ------------------------------------
def test_a_raw_item_is_the_item_the_model_would_save(aws):
    from chalicelib.models.mail import MailRecipientItem

    bootstrap.get_repositories()
    fields = ["pk", "sk", "email", "person_id", "language", "data", "status", "detail", "updated_at"]
    write = rows.raw_writer(MailRecipientItem, fields)
    cases = [dict(pk="T#t#J#j", sk="R#00001", email="anna@example.com", person_id="per_1", language="fr",
                  data={"link": "https://x", "n": 2}, status="sent", detail=None, updated_at="2026-11-23T10:00:01.000Z"),
             dict(pk="T#t#J#j", sk="R#00002", email="bea@example.com", person_id=None, language="de", data={},
                  status="failed", detail="MessageRejected: no", updated_at="2026-11-23T10:00:01.000Z")]
    for values in cases:
        model = MailRecipientItem(values["pk"], values["sk"], **{k: v for k, v in values.items() if k not in ("pk", "sk")})
        assert write(**values) == model.get_save_kwargs_from_instance()["Item"]


def test_a_raw_item_without_a_value_its_model_requires_is_refused(aws):
    from chalicelib.models.mail import MailRecipientItem

    write = rows.raw_writer(MailRecipientItem, ["pk", "sk", "status", "detail"])
    assert write(pk="p", sk="s", status="sent") == {"pk": {"S": "p"}, "sk": {"S": "s"}, "status": {"S": "sent"}}
    with pytest.raises(ValueError, match="MailRecipientItem.status may not be null"):
        write(pk="p", sk="s", detail="x")


def test_a_transaction_writes_raw_items_with_model_items_all_or_nothing(things):
    from chalicelib.domain.errors import Conflict

    db = bootstrap.get_repositories()
    write = rows.raw_writer(Thing, ["pk", "sk", "name", "colour"])
    tx = db.transaction()
    tx.put_raw(Thing, write(pk="THINGS", sk="raw-1", name="raw one", colour="blue"))
    tx.put(Thing("THINGS", "model-1", name="model one"))
    tx.commit()
    assert Thing.get("THINGS", "raw-1").colour == "blue" and Thing.get("THINGS", "model-1").name == "model one"

    tx = db.transaction()
    tx.put_raw(Thing, write(pk="THINGS", sk="raw-2", name="raw two"))
    tx.put(Thing("THINGS", "t000", name="taken"), condition=Thing.pk.does_not_exist(), error=Conflict("taken", "taken"))
    with pytest.raises(Conflict, match="taken"):
        tx.commit()
    assert list(Thing.query("THINGS", Thing.sk == "raw-2")) == []


def test_the_app_s_client_reads_items_as_sent_and_blobs_as_bytes(things, monkeypatch):
    """chalicelib/adapters/dynamodb_items.py is wired into the app's DynamoDB client."""
    from chalicelib.models.notices import NoticeBatchItem
    from tests.unit.test_dynamodb_items import walked_structures

    recipients = [{"p": "per_1", "e": "anna@example.com", "n": "Anna", "a": ["acc_1"]}]
    NoticeBatchItem("T#t#N#n#B", "published#00001", tenant_id="t", notice_id="n", event_key="published", seq=1,
                    language="de", recipients=recipients, created_at="2026-01-01T00:00:00Z").save()
    walked = walked_structures(monkeypatch)
    batch = NoticeBatchItem.get("T#t#N#n#B", "published#00001")
    assert batch.recipients == recipients and batch.seq == 1  # the packed blob decoded, the number read
    assert "AttributeValue" not in walked and "GetItemOutput" in walked  # the item taken as sent
