"""moto's Query narrowed to the queried partition (infra/local_stack/moto_queries.py): every
answer equals moto's own, computed over the whole table."""
from __future__ import annotations


import boto3
import pytest
from moto import mock_aws

TABLE = "query-test"


@pytest.fixture
def table():
    """A pk + sk table with a string GSI and a number GSI; 5 partitions of 8 items."""
    from moto.dynamodb.models import dynamodb_backends

    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1")
        client.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": t}
                                  for n, t in (("pk", "S"), ("sk", "S"), ("g", "S"), ("gs", "S"), ("n", "N"))],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {"IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                                    {"AttributeName": "gs", "KeyType": "RANGE"}],
                 "Projection": {"ProjectionType": "ALL"}},
                {"IndexName": "by_n", "KeySchema": [{"AttributeName": "n", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "KEYS_ONLY"}}])
        for p in range(5):
            for s in range(8):
                item = {"pk": {"S": f"P{p}"}, "sk": {"S": f"S{7 - s}"}, "v": {"N": str(s)}}
                if s % 2:
                    item.update(g={"S": f"G{s % 3}"}, gs={"S": f"{p}-{s}"})
                if s % 3 == 0:
                    item["n"] = {"N": "1.0" if p % 2 else "1"}
                client.put_item(TableName=TABLE, Item=item)
        yield dynamodb_backends["123456789012"]["eu-central-1"]


def both(backend, **query) -> tuple:
    """The answer of the patched query and of moto's own (the patch undone for one call)."""
    from moto.dynamodb.models.table import Table

    patched = backend.query(TABLE, **query)
    original, Table.query = Table.query, Table.query.__wrapped__
    try:
        unpatched = backend.query(TABLE, **query)
    finally:
        Table.query = original

    def plain(answer):
        items, scanned, last = answer
        return [item.to_json() for item in items], scanned, last

    return plain(patched), plain(unpatched)


QUERY = dict(range_comparison=None, range_value_dicts=[], limit=None, exclusive_start_key=None,
             scan_index_forward=True, projection_expressions=None)
CASES = {
    "table partition": dict(hash_key_dict={"S": "P2"}, hash_key_conditions=[("pk", {"S": "P2"})]),
    "table, backwards, page of 3": dict(hash_key_dict={"S": "P1"}, hash_key_conditions=[("pk", {"S": "P1"})],
                                        scan_index_forward=False, limit=3),
    "table, range condition": dict(hash_key_dict={"S": "P3"}, hash_key_conditions=[("pk", {"S": "P3"})],
                                   range_comparison="BEGINS_WITH", range_value_dicts=[{"S": "S"}]),
    "table, second page": dict(hash_key_dict={"S": "P0"}, hash_key_conditions=[("pk", {"S": "P0"})], limit=3,
                               exclusive_start_key={"pk": {"S": "P0"}, "sk": {"S": "S2"}}),
    "no such partition": dict(hash_key_dict={"S": "P9"}, hash_key_conditions=[("pk", {"S": "P9"})]),
    "string index": dict(hash_key_dict={"S": "G1"}, index_name="by_g", hash_key_conditions=[("g", {"S": "G1"})]),
    "string index, page of 4 backwards": dict(hash_key_dict={"S": "G0"}, index_name="by_g", limit=4,
                                              scan_index_forward=False, hash_key_conditions=[("g", {"S": "G0"})]),
    "string index, range condition": dict(hash_key_dict={"S": "G2"}, index_name="by_g",
                                          hash_key_conditions=[("g", {"S": "G2"})],
                                          range_key_conditions=[("gs", "<", [{"S": "3"}])],
                                          range_comparison="<", range_value_dicts=[{"S": "3"}]),
    "number index (1 equals 1.0)": dict(hash_key_dict={"N": "1"}, index_name="by_n",
                                        hash_key_conditions=[("n", {"N": "1"})]),
}


@pytest.mark.parametrize("case", CASES)
def test_every_answer_equals_motos_own(table, case):
    patched, unpatched = both(table, **{**QUERY, **CASES[case]})
    assert patched == unpatched
    if case != "no such partition":
        assert patched[0]


def test_a_scan_still_sees_the_whole_table(table):
    client = boto3.client("dynamodb", region_name="eu-central-1")
    assert len(client.scan(TableName=TABLE)["Items"]) == 40
