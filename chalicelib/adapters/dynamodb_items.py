"""DynamoDB answers parsed with their items as sent: DynamoDB's JSON already carries each item in
the attribute-value form (`{"S": "…"}`) that PynamoDB reads, so the items are taken from the JSON
as they are, only blobs decoded, instead of botocore walking the AttributeValue shape attribute by
attribute, which costs several times as much CPU an item (docs/design.md). Everything else of
the answer (its other members, errors, metadata) is parsed by botocore as before, and the result
is the same as botocore's, which tests/unit/test_dynamodb_items.py checks item type by item type."""
from __future__ import annotations

from botocore.parsers import JSONParser, ResponseParserFactory

ATTRIBUTE_VALUE = "AttributeValue"
_AS_SENT = frozenset({"S", "N", "SS", "NS", "BOOL", "NULL"})  # the JSON already holds botocore's value


class ItemsAsSentParser(JSONParser):
    """botocore's parser for the JSON protocol, but a map of attribute values (an item, a key) is
    converted in one pass over the JSON."""

    def _handle_map(self, shape, value):
        if shape.value.name != ATTRIBUTE_VALUE:
            return super()._handle_map(shape, value)
        blob = self._blob_parser

        def attribute(typed: dict):
            if len(typed) == 1:
                kind, inner = next(iter(typed.items()))
                if kind == "M":
                    return {"M": {name: attribute(v) for name, v in inner.items()}}
                if kind == "L":
                    return {"L": [attribute(v) for v in inner]}
                if kind == "B":
                    return {"B": blob(inner)}
                if kind == "BS":
                    return {"BS": [blob(v) for v in inner]}
                if kind in _AS_SENT:
                    return typed
            return self._parse_shape(shape.value, typed)  # anything unexpected: botocore's way

        as_sent = _AS_SENT.issuperset
        return {name: typed if as_sent(typed) else attribute(typed) for name, typed in value.items()}


class ItemsAsSentParserFactory(ResponseParserFactory):
    """Creates ItemsAsSentParser for the JSON protocol (DynamoDB's); botocore's parsers otherwise."""

    def create_parser(self, protocol_name):
        if protocol_name == "json":
            return ItemsAsSentParser(**self._defaults)
        return super().create_parser(protocol_name)


def parse_items_as_sent(session) -> None:
    """Makes the clients `session` creates from now on parse DynamoDB items as sent."""
    session.register_component("response_parser_factory", ItemsAsSentParserFactory())
