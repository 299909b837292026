"""moto's ProjectionExpression without converting the whole item once per projected name.

moto 5.2.5's `Item.project` turns the item into plain JSON (`to_regular_json`, every attribute)
once for every name in the projection, then serialises the result back into DynamoDB types. The
notice audience reads 10,000 memberships and people with a 5–6 name projection (issue 4 §3);
a profile of the local stack put `Item.project` at 14 % of the process.

`install()` answers projections made only of top-level names directly from the item's
attributes (the same DynamoType values, unchanged); nested paths and list indexes still go
through moto's own code. A test compares both on every shape of item.
Installed by the local stack and the tests with the other moto patches.
"""
from __future__ import annotations

_installed = False


def install() -> None:
    """Patches moto's Item.project (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.models.dynamo_type import Item

    original = Item.project

    def project(self, projection_expressions):
        if not all(len(path) == 1 and "[" not in path[0] for path in projection_expressions):
            return original(self, projection_expressions)
        names = [path[0] for path in projection_expressions]
        return Item(self.hash_key, self.range_key, {name: self.attrs[name] for name in names if name in self.attrs})

    project.__wrapped__ = original
    Item.project = project
    _installed = True


def installed() -> bool:
    return _installed
