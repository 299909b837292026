"""moto's update validation and condition parsing, kept and walked cheaper
(infra/local_stack/moto_update_validation.py): the same validated trees, the same items after
the update, the same errors and the same parsed conditions as moto's own code."""
from __future__ import annotations

import abc
import copy

import pytest

from infra.local_stack import moto_expressions, moto_update_validation
from tests.local_stack.moto_originals import answers, fresh_table, moto_own

INDEXES = [
    {"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
     "Projection": {"ProjectionType": "ALL"}},
    {"IndexName": "byRank", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                          {"AttributeName": "rank", "KeyType": "RANGE"}],
     "Projection": {"ProjectionType": "ALL"}},
]
TYPES = {"pk": "S", "sk": "S", "g": "S", "rank": "N"}
KEY = {"pk": {"S": "P"}, "sk": {"S": "S"}}
NEW_KEY = {"pk": {"S": "NEW"}, "sk": {"S": "S"}}
BASE = {
    **KEY, "g": {"S": "G"}, "rank": {"N": "3"}, "n": {"N": "5"}, "s": {"S": "text"}, "status": {"S": "sending"},
    "attempt": {"S": "a1"}, "pending_pk": {"S": "PEND"}, "pending_sk": {"S": "0001"},
    "l": {"L": [{"S": "a"}, {"N": "1"}, {"M": {"c": {"N": "2"}}}]},
    "m": {"M": {"a": {"M": {"b": {"L": [{"N": "0"}, {"M": {"c": {"N": "7"}}}]}}}, "x": {"S": "y"}}},
    "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": [b"\x01"]}, "nul": {"NULL": True},
    "flag": {"BOOL": False}, "bin": {"B": b"\x00\x01"},
}
VALUES = {
    ":one": {"N": "1"}, ":zero": {"N": "0"}, ":v": {"S": "v"}, ":w": {"S": "w"}, ":empty": {"S": ""},
    ":list": {"L": [{"S": "z"}]}, ":emptylist": {"L": []}, ":ss": {"SS": ["c"]}, ":gone": {"SS": ["a"]},
    ":ns": {"NS": ["3"]}, ":map": {"M": {"k": {"S": "v"}}}, ":num_as_s": {"S": "7"}, ":null": {"NULL": True},
    ":b": {"B": b"\x02"}, ":emptyb": {"B": b""}, ":status": {"S": "sent"}, ":s": {"S": "sending"},
    ":a": {"S": "a1"}, ":queued": {"S": "queued"},
}
NAMES = {"#status": "status", "#updated_at": "updated_at", "#pending_pk": "pending_pk", "#pending_sk": "pending_sk",
         "#attempt": "attempt", "#n": "n", "#l": "l", "#m": "m", "#a": "a", "#b": "b", "#pk": "pk", "#sk": "sk",
         "#g": "g", "#rank": "rank", "#x": "x", "#name": "name", "#ss": "ss", "#dot": "m.x"}

# Update expressions: every clause, nested paths and list indexes, functions, arithmetic, and
# expressions moto refuses in validation or execution.
UPDATES = [
    "SET #status = :status, #updated_at = :v REMOVE #pending_pk, #pending_sk",
    "SET #status = :status, #attempt = :a, #updated_at = :v",
    "ADD #n :one",
    "ADD newcount :one, ss :ss",
    "ADD ns :ns",
    "DELETE ss :gone",
    "DELETE ss :ss",
    "SET n = n + :one",
    "SET n = n - :one",
    "SET n = :one + n",
    "SET n = if_not_exists(n, :zero) + :one",
    "SET c = if_not_exists(c, :zero) + :one",
    "SET c = if_not_exists(c, :zero)",
    "SET l = list_append(l, :list)",
    "SET l = list_append(:list, l)",
    "SET l = list_append(if_not_exists(l, :emptylist), :list)",
    "SET nl = list_append(if_not_exists(nl, :emptylist), :list)",
    "SET nl = list_append(nl, :list)",
    "SET l = list_append(s, :list)",
    "SET m.a.b[1].c = if_not_exists(m.a.b[1].c, :zero) + :one",
    "SET m.a.b[0] = :v, m.x = :w",
    "SET #m.#a.#b[5] = :v",
    "SET l[1] = :v, l[9] = :w",
    "SET l[2].c = :v",
    "SET m.nope.deeper = :v",
    "SET s.sub = :v",
    "SET s[0] = :v",
    "SET n = missing + :one",
    "SET n = s + :one",
    "SET n = n + :v",
    "SET n = :v - :one",
    "SET copy = m.a, other = l[2]",
    "SET copy = #dot",
    "SET #dot = :v",
    "REMOVE l[0], l[2], s",
    "REMOVE m.a.b[1].c, nowhere",
    "REMOVE m.nope.deeper",
    "SET a = :v REMOVE b ADD #n :one DELETE ss :gone",
    "REMOVE b SET a = :v",
    "SET a = :v SET b = :w",
    "REMOVE a REMOVE b",
    "ADD #n :one ADD newcount :one",
    "SET a = :v, a = :w",
    "SET m.a = :v, m = :w",
    "SET #status = :v REMOVE #status",
    "SET #a = :v, a = :w",
    "SET pk = :v",
    "SET #pk = :v",
    "SET #sk = :v REMOVE x",
    "REMOVE #pk",
    "SET a = pk",
    "SET g = :one",
    "SET #rank = :v",
    "SET #rank = :one",
    "SET g = :empty",
    "SET g = :emptyb",
    "SET #g = :empty",
    "SET s = :empty",
    "SET nul = :null, bin = :b, flag = :null",
    "SET name = :v",
    "SET #name = :v",
    "SET #undefined = :v",
    "SET a = :undefined",
    "SET a = :map, b = :ns",
    "ADD s :one",
    "ADD n :v",
    "ADD m :one",
    "DELETE n :one",
    "DELETE ss :v",
    "SET lower = :v",
]

CONDITIONS = [
    None,
    "#status = :s AND #attempt = :a",
    "#status = :queued",
    "attribute_exists(pk)",
    "attribute_not_exists(pk)",
    "attribute_not_exists(nothing) OR n > :zero",
    "NOT (n < :one)",
    "n BETWEEN :zero AND :one",
    "n IN (:zero, :one, :ns)",
    "begins_with(s, :v)",
    "contains(ss, :v)",
    "contains(l, :v)",
    "size(l) > :one",
    "size(s) = :one",
    "attribute_type(n, :v)",
    "m.a.b[1].c = :one",
    "(#status = :s) AND (n <> :zero)",
    "((#status = :s))",
    "#status = :undefined",
    "#undefined = :s",
    "name = :v",
    "n = ",
    "n BETWEEN :zero",
    "attribute_exists(:v)",
    "size(:v) > :one",
]


def dump(value) -> object:
    """A validated tree, a parsed condition or an item as nested plain values (parents left out)."""
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.parsing.ast_nodes import Node

    if isinstance(value, (list, tuple)):
        return [dump(element) for element in value]
    if isinstance(value, dict):
        return {key: dump(element) for key, element in value.items()}
    if isinstance(value, DynamoType):
        return ("DynamoType", value.to_json())
    if isinstance(value, Node):
        children = [child for child in value.children or [] if isinstance(child, Node)]
        return (type(value).__name__, {name: dump(attr) for name, attr in vars(value).items() if name != "parent"},
                all(child.parent is value for child in children))
    if hasattr(value, "__dict__"):
        return (type(value).__name__, {name: dump(attr) for name, attr in vars(value).items()})
    return repr(value)


def failure(error: BaseException) -> tuple:
    return ("error", type(error).__name__, str(error), getattr(error, "message", None))


def places():
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

    moto_expressions.install()
    moto_update_validation.install()
    return [(UpdateExpressionValidator, "__init__"), (UpdateExpressionValidator, "validate"),
            (ConditionExpressionParser, "parse")]


@pytest.fixture
def table():
    """A fresh moto's table "t" (pk, sk, two GSIs: g and g + rank, rank a number)."""
    places()
    from moto.dynamodb.models import dynamodb_backends

    with fresh_table(TYPES, INDEXES):
        yield dynamodb_backends["123456789012"]["eu-central-1"].tables["t"]


def validated(table, expression: str, names, values, item_attrs) -> tuple:
    """moto's validator on a copy of the item: the validated tree and the item after execution, or the error."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.parsing.executors import UpdateExpressionExecutor
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

    item = Item(DynamoType(item_attrs["pk"]), DynamoType(item_attrs["sk"]), copy.deepcopy(item_attrs))
    try:
        tree = UpdateExpressionValidator(UpdateExpressionParser.make(expression), expression_attribute_names=names,
                                         expression_attribute_values=values, item=item, table=table).validate()
        shape = dump(tree)
        tree.normalize()
        UpdateExpressionExecutor(tree, item, names).execute()
        return shape, item.to_json()
    except Exception as error:  # noqa: BLE001 - the errors are what is compared
        return failure(error)


def backend_update(table, expression, condition, names, values, key, present: bool) -> tuple:
    """An UpdateItem through moto's backend on a reset item: the item after it, or the error."""
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends["123456789012"]["eu-central-1"]
    table.put_item(copy.deepcopy(BASE))
    if not present:
        backend.delete_item("t", copy.deepcopy(NEW_KEY))
    try:
        item = backend.update_item("t", copy.deepcopy(key), expression, names, values, condition_expression=condition)
        return "ok", item.to_json()
    except Exception as error:  # noqa: BLE001
        return failure(error)


def names_for(expression: str | None, *more: str | None) -> dict:
    text = " ".join(e for e in (expression, *more) if e)
    return {name: target for name, target in NAMES.items() if name in text}


@pytest.mark.parametrize("expression", UPDATES)
def test_validation_gives_moto_s_tree_item_and_error(table, expression):
    names = names_for(expression)
    for attrs in (BASE, {**KEY}):  # an existing item, and the empty item of an update that creates one
        ours = [validated(table, expression, names, VALUES, attrs) for _ in range(2)]  # kept checks the 2nd time
        with moto_own(places()):
            theirs = validated(table, expression, names, VALUES, attrs)
        assert ours == [theirs, theirs]


@pytest.mark.parametrize("expression", UPDATES)
def test_updates_through_the_backend_give_moto_s_items_and_errors(table, expression):
    names = names_for(expression)
    for key, present in ((KEY, True), (NEW_KEY, False)):
        ours = [backend_update(table, expression, None, names, VALUES, key, present) for _ in range(2)]
        with moto_own(places()):
            theirs = backend_update(table, expression, None, names, VALUES, key, present)
        assert ours == [theirs, theirs]


def test_the_kept_checks_follow_the_names_and_the_table_keys(table):
    """The same tree passes with one name mapping and refuses with another; then passes again."""
    expression = "SET #x = :v"
    for names in ({"#x": "free"}, {"#x": "pk"}, {"#x": "free"}, {"#x": "sk"}, None, {}, {"#x": "g"}):
        ours = validated(table, expression, names, VALUES, BASE)
        with moto_own(places()):
            theirs = validated(table, expression, names, VALUES, BASE)
        assert ours == theirs
    assert validated(table, expression, {"#x": "pk"}, VALUES, BASE)[1] == "UpdateHashRangeKeyException"

    other = copy.copy(table)  # the same expression on a table keyed by other attributes
    other.table_key_attrs = ["free", "sk"]
    ours = [validated(t, expression, {"#x": "free"}, VALUES, BASE) for t in (table, other, table)]
    with moto_own(places()):
        theirs = [validated(t, expression, {"#x": "free"}, VALUES, BASE) for t in (table, other, table)]
    assert ours == theirs and ours[1][1] == "UpdateHashRangeKeyException" and ours[0][0] != "error"


@pytest.mark.parametrize("values", [VALUES, {":v": {"S": "v"}}, {}, None, {":v": {"N": "x"}}])
def test_other_values_with_a_kept_tree_are_moto_s(table, values):
    for expression in ("SET a = :v, b = :one", "SET n = n + :one", "SET l = list_append(l, :list)", "ADD ss :ss"):
        ours = validated(table, expression, {}, values, BASE)
        with moto_own(places()):
            theirs = validated(table, expression, {}, values, BASE)
        assert ours == theirs


def test_a_tree_with_other_parent_links_is_validated_by_moto_s_code(table):
    """A tree whose parent links are not its shape (no parser makes one): no kept checks, and the
    walks write into the parents moto's walks write into."""
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

    def broken():
        tree = UpdateExpressionParser.make.__wrapped__(UpdateExpressionParser, "SET a = :v, b = :w")
        set_actions = tree.children[0].children[0]
        set_actions.children[0].children[1].parent = set_actions.children[0]  # consistent
        set_actions.children[0].parent = tree  # not where it hangs
        return tree

    def run():
        from moto.dynamodb.models.dynamo_type import DynamoType, Item

        item = Item(DynamoType(KEY["pk"]), DynamoType(KEY["sk"]), copy.deepcopy(BASE))
        source = broken()
        try:
            result = UpdateExpressionValidator(source, expression_attribute_names={}, expression_attribute_values=VALUES,
                                               item=item, table=table).validate()
            return dump(result)
        except Exception as error:  # noqa: BLE001
            return failure(error)

    from moto.dynamodb.parsing.ast_nodes import Node

    assert not moto_update_validation._consistent(broken(), Node)
    ours = [run(), run()]
    with moto_own(places()):
        theirs = run()
    assert ours == [theirs, theirs]


def test_a_new_abc_registration_drops_the_kept_isinstance_answers(table):
    class Unrelated(abc.ABC):
        pass

    before = validated(table, UPDATES[0], names_for(UPDATES[0]), VALUES, BASE)
    Unrelated.register(int)  # changes abc's cache token
    assert validated(table, UPDATES[0], names_for(UPDATES[0]), VALUES, BASE) == before


# --- conditions --------------------------------------------------------------------------------

def parsed(condition, names, values) -> tuple:
    """moto's parse of a condition: the condition, the names and values it found, and what it
    says of a few items; or the error."""
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    parser = ConditionExpressionParser(condition, names, values)
    try:
        op = parser.parse()
    except Exception as error:  # noqa: BLE001
        return failure(error) + (parser.expr_attr_names_found, parser.expr_attr_values_found)
    verdicts = []
    for attrs in (BASE, KEY, {**BASE, "status": {"S": "queued"}, "n": {"N": "0"}}):
        try:
            verdicts.append(op.expr(Item(DynamoType(attrs["pk"]), DynamoType(attrs["sk"]), copy.deepcopy(attrs))))
        except Exception as error:  # noqa: BLE001
            verdicts.append(failure(error))
    return dump(op), parser.expr_attr_names_found, parser.expr_attr_values_found, verdicts


OTHER_VALUES = [VALUES, {**VALUES, ":s": {"S": "queued"}, ":one": {"N": "-1"}, ":v": {"S": "te"}},
                {":s": {"S": "x"}}, {}, None, {**VALUES, ":v": {}}, {**VALUES, ":one": "not a value"}]


@pytest.mark.parametrize("condition", CONDITIONS)
def test_conditions_parse_as_moto_parses_them_with_any_values(condition):
    places()
    names = names_for(condition)
    for values in OTHER_VALUES:  # the first parse keeps the tree, the others use it
        ours = [parsed(condition, names, values) for _ in range(2)]
        with moto_own(places()):
            theirs = parsed(condition, names, values)
        assert ours == [theirs, theirs], values


@pytest.mark.parametrize("names", [NAMES, {"#status": "attempt", "#attempt": "status"}, {"#status": "status"}, {},
                                   None, {"#status": "m", "#attempt": "a.b"}])
def test_conditions_follow_their_names(names):
    places()
    for condition in ("#status = :s AND #attempt = :a", "attribute_exists(#status.#attempt)", "size(#status) > :zero"):
        ours = [parsed(condition, names, VALUES) for _ in range(2)]
        with moto_own(places()):
            theirs = parsed(condition, names, VALUES)
        assert ours == [theirs, theirs]


def test_a_condition_kept_once_leaves_the_kept_tree_unchanged():
    places()
    condition = "#status = :s AND n IN (:zero, :one) AND begins_with(s, :v)"
    first = parsed(condition, {"#status": "status"}, VALUES)
    parsed(condition, {"#status": "status"}, {**VALUES, ":s": {"S": "other"}, ":v": {"N": "1"}})
    assert parsed(condition, {"#status": "status"}, VALUES) == first


# --- through the API ---------------------------------------------------------------------------

def api_calls() -> list:
    """UpdateItem and TransactWriteItems calls (with conditions), good and bad, and the reads after."""
    key = {"pk": {"S": "api"}, "sk": {"S": "1"}}
    claim = {"pk": {"S": "api"}, "sk": {"S": "2"}}
    event = {"pk": {"S": "api"}, "sk": {"S": "event"}}
    settle = {"UpdateExpression": "SET #status = :status, #updated_at = :now REMOVE #pending_pk, #pending_sk",
              "ConditionExpression": "#status = :s AND #attempt = :a",
              "ExpressionAttributeNames": {"#status": "status", "#updated_at": "updated_at", "#pending_pk": "pending_pk",
                                           "#pending_sk": "pending_sk", "#attempt": "attempt"}}
    claim_update = {"UpdateExpression": "SET #status = :status, #attempt = :attempt, #updated_at = :now",
                    "ConditionExpression": "#status = :queued",
                    "ExpressionAttributeNames": {"#status": "status", "#attempt": "attempt", "#updated_at": "updated_at"}}

    def transaction(attempt: str, claim_status: str, count: str):
        return ("transact_write_items", {"TransactItems": [
            {"Update": {"TableName": "t", "Key": key, **settle, "ExpressionAttributeValues": {
                ":status": {"S": "sent"}, ":now": {"S": "t1"}, ":s": {"S": "sending"}, ":a": {"S": attempt}}}},
            *({"Put": {"TableName": "t", "Item": {"pk": {"S": "api-d"}, "sk": {"S": f"{attempt}-{i}"},
                                                   "status": {"S": "sent"}, "account_ids": {"L": [{"S": "x"}]}}}}
              for i in range(3)),
            {"Update": {"TableName": "t", "Key": event, "UpdateExpression": "ADD #sent :n",
                        "ExpressionAttributeNames": {"#sent": "sent"}, "ExpressionAttributeValues": {":n": {"N": count}}}},
            {"Update": {"TableName": "t", "Key": claim, **claim_update, "ExpressionAttributeValues": {
                ":status": {"S": "sending"}, ":attempt": {"S": attempt}, ":now": {"S": "t1"},
                ":queued": {"S": claim_status}}}},
        ]})

    def reset(status: str, attempt: str):
        return [("put_item", {"TableName": "t", "Item": {**key, "status": {"S": status}, "attempt": {"S": attempt},
                                                         "pending_pk": {"S": "P"}, "pending_sk": {"S": "1"}}}),
                ("put_item", {"TableName": "t", "Item": {**claim, "status": {"S": "queued"}}})]

    def update(expression, values=None, names=None, condition=None, item_key=key):
        params = {"TableName": "t", "Key": item_key, "UpdateExpression": expression, "ReturnValues": "ALL_NEW"}
        if values is not None:
            params["ExpressionAttributeValues"] = values
        if names is not None:
            params["ExpressionAttributeNames"] = names
        if condition is not None:
            params["ConditionExpression"] = condition
        return "update_item", params

    read = ("scan", {"TableName": "t"})
    return [
        *reset("sending", "a1"), transaction("a1", "queued", "3"), read,
        *reset("sending", "a2"), transaction("a1", "queued", "3"), read,  # not our attempt: cancelled
        *reset("sending", "a3"), transaction("a3", "sending", "2"), read,  # the claim is not queued: cancelled
        *reset("sending", "a4"), transaction("a4", "queued", "5"), read,
        *reset("sending", "a5"), update("SET #status = :status", {":status": {"S": "x"}, ":s": {"S": "sending"}},
                                        {"#status": "status"}, "#status = :s"),
        update("SET #status = :status", {":status": {"S": "y"}, ":s": {"S": "sending"}}, {"#status": "status"},
               "#status = :s"),  # the condition fails now
        update("SET #status = :status", {":status": {"S": "y"}}, {"#status": "status"}, "#status = :missing"),
        update("SET n = if_not_exists(n, :zero) + :one", {":zero": {"N": "0"}, ":one": {"N": "1"}}),
        update("SET n = if_not_exists(n, :zero) + :one", {":zero": {"N": "0"}, ":one": {"N": "1"}}),
        update("SET l = list_append(if_not_exists(l, :e), :more)", {":e": {"L": []}, ":more": {"L": [{"S": "a"}]}}),
        update("SET l[5] = :v, m = :m", {":v": {"S": "b"}, ":m": {"M": {"x": {"N": "1"}}}}),
        update("SET m.x = m.x + :one REMOVE l[0]", {":one": {"N": "2"}}),
        update("SET m.nope.x = :v", {":v": {"S": "b"}}),
        update("SET pk = :v", {":v": {"S": "b"}}),
        update("SET #k = :v", {":v": {"S": "b"}}, {"#k": "sk"}),
        update("SET g = :v", {":v": {"S": ""}}),
        update("SET rank = :v", {":v": {"S": "one"}}),  # a reserved word
        update("SET #r = :v", {":v": {"S": "one"}}, {"#r": "rank"}),  # a number in the index
        update("SET a = :v SET b = :v", {":v": {"S": "b"}}),
        update("SET a = :v, a.b = :v", {":v": {"S": "b"}}),
        update("SET a = :v REMOVE", {":v": {"S": "b"}}),
        update("SET a = :undefined", {":v": {"S": "b"}}),
        update("SET n = n + :v", {":v": {"S": "b"}}),
        update("ADD n :one DELETE tags :t", {":one": {"N": "1"}, ":t": {"SS": ["q"]}}),
        update("SET s = :v", {":v": {"S": "z"}}, None, "attribute_exists(pk) AND size(l) > :zero",),
        update("SET s = :v", {":v": {"S": "z"}, ":zero": {"N": "0"}}, None, "attribute_exists(pk) AND size(l) > :zero"),
        update("SET s = :v", {":v": {"S": "z"}, ":p": {"S": "s"}}, None, "begins_with(s, :p) OR contains(l, :v)"),
        update("SET s = :v", {":v": {"S": "zz"}, ":p": {"S": "z"}}, None, "begins_with(s, :p) OR contains(l, :v)"),
        update("ADD c :one", {":one": {"N": "1"}}, None, "attribute_not_exists(pk)", {"pk": {"S": "api"}, "sk": {"S": "9"}}),
        update("ADD c :one", {":one": {"N": "1"}}, None, "attribute_not_exists(pk)", {"pk": {"S": "api"}, "sk": {"S": "9"}}),
        read,
    ]


def api_answers(client, calls) -> list:
    """`answers`, one call at a time: moto lets some errors out of its handler (a condition's
    undefined value is a KeyError), and those are compared too."""
    result = []
    for call in calls:
        try:
            result.extend(answers(client, [call]))
        except Exception as error:  # noqa: BLE001
            result.append(failure(error))
    return result


def test_updates_and_transactions_through_the_api_answer_what_moto_answers():
    places()
    calls = api_calls()
    with fresh_table(TYPES, INDEXES) as client:
        ours = api_answers(client, calls)
    with fresh_table(TYPES, INDEXES) as client:
        again = api_answers(client, calls)  # every tree and condition kept by now
    with moto_own(places()):
        with fresh_table(TYPES, INDEXES) as client:
            theirs = api_answers(client, calls)
    assert ours == theirs
    assert again == theirs
    assert "Code" not in ours[2]  # the first transaction went through
    assert [ours[i]["Code"] for i in (6, 10)] == ["TransactionCanceledException"] * 2
    assert {"Code": "ValidationException", "Message": "One or more parameter values were invalid: Cannot update "
                                                      "attribute pk. This attribute is part of the key"} in ours
    assert ours[-1]["Count"] >= 10


def test_installed_by_the_test_suite():
    assert moto_update_validation.installed()
