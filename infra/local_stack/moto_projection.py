"""moto's ProjectionExpression without converting the whole item once per projected name, and
projected items that know their size.

moto 5.2.5's `Item.project` turns the item into plain JSON (`to_regular_json`, every attribute)
once for every name in the projection, then serialises the result back into DynamoDB types. The
notice audience reads 10,000 memberships and people with a 5–6 name projection (issue 4 §3);
a profile of the local stack put `Item.project` at 14 % of the process.

`install()` answers projections made only of top-level names directly from the item's
attributes: nested paths and list indexes still go through moto's own code. The first version
built the projected item through `Item(...)`, which wrapped every value in a new `DynamoType`
again and re-ran the 400 KB check; BatchGetItem then sized each returned item twice for its
16 MB limit (`Item.size`), together ~2/3 of a BatchGetItem of projected people (cProfile). Now

- the projected item holds the item's own `DynamoType` values (nothing on the read path changes
  them: projections and filters read them and the answer is written before the next request is
  served; `moto_queries` copies a query's page the same way), in the projection's order, each
  name once;
- its size is summed once as it is built (`moto_item_size.item_size`, moto's sizes); over
  moto's limit it raises moto's `ItemSizeTooLarge`, as moto's constructor would (an item that
  updates of nested values grew past the limit); a value of an unusual form is left to the
  constructor, as before;
- it keeps that size: `Item.size` answers it for that item. It is set only on the items made
  here, which nobody changes; moto's deep copy of an item does not copy it.

moto's own round trip through Python values also rewrites a number's text ("1e2" as "1E+2") and
drops a set's repeated members; like the first version, the projection answers the stored values
as they are, and its size is moto's size of what it answers. Tests compare every projection,
size and refusal with moto's own and with the first version's, on seeded random items, and the
reads that project through the API (tests/local_stack/test_moto_projection.py).

Measured in-process (`time.process_time` around moto's `call_action`, the other patches
installed, least of 9 runs): a BatchGetItem of 2,000 people with the audience's 6-name
projection (20 requests of 100) took 104 ms of moto's CPU with the first version, 73 ms now
(60 ms with `moto_keys`); a Query of 2,000 memberships with a projection 72 -> 60 ms (52 ms).
Installed by the local stack and the tests with the other moto patches.
"""
from __future__ import annotations

from infra.local_stack import moto_item_size

_installed = False
SIZE = "_roster_size"  # an attribute of a projected Item: its size, as moto's Item.size gives it
_MISSING = object()


def install() -> None:
    """Patches moto's Item.project and Item.size (idempotent)."""
    global _installed
    if _installed:
        return
    moto_item_size.bind()
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict

    original, original_size = Item.project, Item.size
    item_size, limit, unusual = moto_item_size.item_size, moto_item_size.LIMIT, moto_item_size.Unusual

    def project(self, projection_expressions):
        if not all(len(path) == 1 and "[" not in path[0] for path in projection_expressions):
            return original(self, projection_expressions)
        attrs = self.attrs
        picked = {}
        for path in projection_expressions:
            name = path[0]
            value = attrs.get(name, _MISSING)
            if value is not _MISSING:
                picked[name] = value
        try:
            size = item_size(picked)
        except unusual:
            return Item(self.hash_key, self.range_key, picked)  # the constructor wraps and checks
        if size > limit:
            raise ItemSizeTooLarge
        projected = Item.__new__(Item)
        projected.hash_key, projected.range_key = self.hash_key, self.range_key
        projected.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.update(projected.attrs, picked)
        projected.__dict__[SIZE] = size
        return projected

    def size(self):
        known = self.__dict__.get(SIZE)
        if known is not None:
            return known
        return original_size(self)

    project.__wrapped__ = original
    size.__wrapped__ = original_size
    Item.project = project
    Item.size = size
    _installed = True


def installed() -> bool:
    return _installed
