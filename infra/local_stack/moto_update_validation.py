"""moto's update validation and condition parsing without the repeated generic work.

moto 5.2.5 validates every UpdateExpression (UpdateItem, and each Update of a TransactWriteItems)
with `UpdateExpressionValidator.validate`: ten processors, each a full `DepthFirstTraverser`
walk of the expression's tree. At every node the walk asks `isinstance(node, Node)` (an ABC, so
through `ABCMeta.__instancecheck__`), calls the `pre_processing_of_child` hook before every
child, and builds the processor's `_processing_map()` dict anew to get `nodes_to_be_processed()`.
The first processors (`ActionCountValidator`, `OverlappingPathsValidator`) also call
`find_clauses` at each of the nested `UpdateExpression` nodes moto's parser builds, one per
clause, each walking the subtree again. A condition (`ConditionExpression`) is lexed by regular
expressions and parsed from its text every time: three times for a conditional Update of a
transaction (the handler's check of its names, the transaction's condition check and
`update_item`'s). A py-spy profile of the local stack's moto server during the notices benchmark
put TransactWriteItems at ~30 % of its CPU, and most of each Update in `validate`.

`install()`

1. keeps, per update expression tree (the one `UpdateExpressionParser.make` returned; with
   `moto_expressions` installed the same object for the same text), whether the first three
   processors — `ActionCountValidator`, `OverlappingPathsValidator`, `UpdateHashRangeKeyValidator`
   — passed for given ExpressionAttributeNames and table key attributes, and skips them on the
   copy when they did. They read only the tree's shape, those names and those key attributes
   (not the item, not the values), raise or return the node they were given, so on a tree whose
   parent links are those of the tree (checked once per tree: every child's `parent` is the node
   it hangs under, the root's is None, no node twice) their walk changes nothing. The first
   validation with other names or keys runs them (moto's own `traverse`); an error is raised as
   before and nothing is kept for it;
2. runs the other seven processors with a walk equal to moto's `traverse_node_recursively`:
   the same depth-first order, the same `pre_processing_of_child` calls (only
   `ExpressionAttributeResolvingProcessor` has one; the others' is moto's no-op), the same
   `process` of the same nodes, the same `parent` and `children[child_id]` writes. What it
   computes once instead of per node: `nodes_to_be_processed()` (for these classes the keys of a
   constant map) per walk, and `isinstance(node, Node)` / `isinstance(node, types)` per node
   class (an ABC's answer depends on the class and on registrations: the remembered answers are
   dropped when `abc.get_cache_token()` changes). A child that is not a Node (a name, an index,
   a DynamoType) is not visited: moto's visit of it returns it and does nothing, while its
   `pre_processing_of_child` call still happens. `UpdateExpressionFunctionEvaluator` is skipped
   when the tree (with the parent links of its shape) has no `UpdateExpressionFunction`: the
   processors before it only put `DDBTypedValue` and `NoneExistingPath` nodes in, so it would
   find nothing to process;
3. keeps, per condition text and ExpressionAttributeNames (names and placeholders all strings),
   the tree `ConditionExpressionParser.parse` built before its last step, the placeholders of the
   values it looked up (in order) and the names and values it found. Everything up to the last
   step depends on the text and the names only: values are looked up (the one lookup that can
   fail for other values) and carried in `EXPRESSION_ATTRIBUTE_VALUE` nodes that no later step
   reads. A later parse looks the values up in the same order (the same KeyError or TypeError
   for a missing one), puts them into a copy of the kept tree, extends the parser's found lists
   and calls moto's own `_make_op_condition` on it, as `parse` does. A parse that fails keeps
   nothing; a parse of a subclass, or without a text, is moto's own.

It fails safe: anything else (another validator class or processor list, a tree with other
parent links, names that are not all strings) runs moto's own code, and if a processor class
defines its own walk (`traverse`, `traverse_node_recursively`) nothing is installed. Kept state
is bounded (TREES_KEPT, CHECKS_KEPT, CONDITIONS_KEPT) and changed under a lock. Installed after
`moto_expressions` by the local stack (`EmbeddedAws.start`) and the test suite (`tests/conftest.py`).

Measured on this 2-core machine while other work ran (CPU time, medians of interleaved runs with
the patch off and on, every other patch installed, a table of 20,000 items with five GSIs): a
TransactWriteItems of the notices' shape (50 Puts of 8 strings and a list, the batch settle
`SET … REMOVE …` and the claim `SET …`, both conditional, the counter `ADD`) took 4.9 ms in moto's
backend, 3.3 ms with this patch (-32 %); 7.2 ms, 5.5 ms of the local stack's server thread per
request (-23 %: the handler's request parsing and the Puts stay); a conditional UpdateItem of the
batch settle 1.03 ms, 0.33 ms in the backend (-68 %) and 2.35 ms, 1.55 ms in the server thread
(-34 %). Alone: `Validator.validate` of that update 0.72 ms, 0.14 ms; a parse of its condition
0.12 ms, 0.02 ms.

Tests (tests/local_stack/test_moto_update_validation.py) compare with moto's own code, for ~70
update expressions (every clause, nested paths and list indexes, functions, arithmetic, key and
index attributes, overlapping paths, undefined names and values) on an existing and a new item:
the validated trees, the items after execution and the errors, each twice (the second time with
the checks kept); the same for names and table keys that change under a kept tree; ~25 conditions
(functions, IN, BETWEEN, NOT, parentheses, paths, invalid ones) with seven sets of values and six
of names: the parsed condition, the found names and values, the verdicts on items, the errors;
and UpdateItem and TransactWriteItems calls (conditions failing, cancelled transactions) through
the API, answer by answer.
"""
from __future__ import annotations

import abc
import threading
from collections import OrderedDict

TREES_KEPT = 512  # update expression trees with their passed checks
CHECKS_KEPT = 32  # (names, key attributes) per tree
CONDITIONS_KEPT = 512  # parsed conditions per (text, names)
_installed = False
_lock = threading.Lock()
_NODE = None  # moto's ast_nodes.Node, once installed
NOT_KEYED = object()


def install() -> None:
    """Patches moto's update expression validator and condition parser (idempotent)."""
    global _installed, _NODE
    if _installed:
        return
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing import validators as v
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node, UpdateExpressionFunction

    checks = (v.ActionCountValidator, v.OverlappingPathsValidator, v.UpdateHashRangeKeyValidator)
    others = (v.ExpressionAttributeValueProcessor, v.ExpressionAttributeResolvingProcessor,
              v.UpdateExpressionFunctionEvaluator, v.NoneExistingPathChecker, v.ExecuteOperations,
              v.TypeMismatchValidator, v.EmptyStringKeyValueValidator)
    expected = checks + others
    no_pre = DepthFirstTraverser.pre_processing_of_child
    if any(vars(cls).get("traverse_node_recursively") or vars(cls).get("traverse") for cls in expected):
        return  # not the moto this was written for: leave it alone
    _NODE = Node
    Validator = v.UpdateExpressionValidator
    original_init = Validator.__init__
    original_validate = Validator.validate
    trees: OrderedDict[int, _Tree] = OrderedDict()
    kinds = _Kinds()

    def __init__(self, expression, *args, **kwargs):
        original_init(self, expression, *args, **kwargs)
        self._roster_source = expression

    def validate(self):
        processors = self.processors
        source = getattr(self, "_roster_source", None)
        if type(self) is not Validator or not isinstance(source, Node) or len(processors) != len(expected) \
                or any(type(p) is not cls for p, cls in zip(processors, expected)):
            return original_validate(self)
        kinds.check_token()
        tree = _tree(trees, source)
        check_key = _check_key(processors[1].expression_attribute_names, processors[2].expression_attribute_names,
                               processors[2].table_key_attributes)
        node = self.node_to_validate
        if check_key is None or not tree.consistent or check_key not in tree.passed:
            for processor in processors[:3]:
                node = processor.traverse(node)
            if check_key is not None and tree.consistent:
                with _lock:
                    tree.passed[check_key] = True
                    while len(tree.passed) > CHECKS_KEPT:
                        tree.passed.popitem(last=False)
        for processor in processors[3:]:
            cls = type(processor)
            if cls is v.UpdateExpressionFunctionEvaluator and tree.consistent and not tree.has_function:
                continue
            pre = None if cls.pre_processing_of_child is no_pre else processor.pre_processing_of_child
            if isinstance(node, Node):
                node = _visit(node, -1, processor.nodes_to_be_processed(), kinds.matches(cls), pre, processor.process,
                              kinds.nodes)
        return node

    class _Tree:
        __slots__ = ("source", "consistent", "has_function", "passed")

        def __init__(self, source):
            self.source = source  # held: its id is the key
            self.consistent = _consistent(source, Node)
            self.has_function = _has(source, UpdateExpressionFunction, Node)
            self.passed: OrderedDict = OrderedDict()

    def _tree(kept, source):
        with _lock:
            tree = kept.get(id(source))
            if tree is not None and tree.source is source:
                kept.move_to_end(id(source))
                return tree
        tree = _Tree(source)
        with _lock:
            kept[id(source)] = tree
            while len(kept) > TREES_KEPT:
                kept.popitem(last=False)
        return tree

    __init__.__wrapped__ = original_init
    validate.__wrapped__ = original_validate
    Validator.__init__ = __init__
    Validator.validate = validate
    _install_condition_cache(ConditionExpressionParser)
    _installed = True


def installed() -> bool:
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

    return hasattr(UpdateExpressionValidator.validate, "__wrapped__") \
        and hasattr(ConditionExpressionParser.parse, "__wrapped__")


class _Kinds:
    """isinstance answers per node class: `nodes` for moto's `Node`, `matches(processor class)`
    for the processor's `nodes_to_be_processed()`. Dropped when an ABC registration changes them."""

    def __init__(self):
        self.token = abc.get_cache_token()
        self.nodes: dict = {}
        self.by_processor: dict = {}

    def check_token(self) -> None:
        token = abc.get_cache_token()
        if token != self.token:
            with _lock:
                self.nodes, self.by_processor, self.token = {}, {}, token

    def matches(self, processor_class) -> dict:
        found = self.by_processor.get(processor_class)
        if found is None:
            found = self.by_processor[processor_class] = {}
        return found


def _visit(node, child_id, types, matches, pre, process, nodes):
    """moto's `DepthFirstTraverser.traverse_node_recursively` on a Node, with the per-class
    isinstance answers kept in `nodes` (moto's Node) and `matches` (the processor's node types).
    A child that is not a Node is not visited: moto's visit of it returns it and does nothing."""
    parent_node = node.parent
    if node.children is not None:
        for i, child_node in enumerate(node.children):
            if pre is not None:
                pre(node, i)
            is_node = nodes.get(type(child_node))
            if is_node is None:
                is_node = nodes[type(child_node)] = isinstance(child_node, _NODE)
            if is_node:
                _visit(child_node, i, types, matches, pre, process, nodes)
    cls = type(node)
    matched = matches.get(cls)
    if matched is None:
        matched = matches[cls] = isinstance(node, types)
    if matched:
        node = process(node)
        node.parent = parent_node
        if parent_node:
            parent_node.children[child_id] = node
    return node


def _names_key(names):
    """ExpressionAttributeNames as a key: None, or its items when all are strings (else NOT_KEYED)."""
    if names is None:
        return None
    if type(names) is dict:
        items = tuple(names.items())
        if all(type(k) is str and type(n) is str for k, n in items):
            return items
    return NOT_KEYED


def _check_key(overlap_names, key_names, key_attributes):
    """What the first three processors read besides the tree, as a key (None: not keyable)."""
    overlap_key, names_key = _names_key(overlap_names), _names_key(key_names)
    if overlap_key is NOT_KEYED or names_key is NOT_KEYED or type(key_attributes) is not list \
            or not all(type(k) is str for k in key_attributes):
        return None
    return overlap_key, names_key, tuple(key_attributes)


def _consistent(root, node_class) -> bool:
    """Every Node child's parent is the node it hangs under, the root has none, no node twice:
    then a walk that processes nodes into themselves writes nothing new."""
    if root.parent is not None:
        return False
    seen = {id(root)}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node.children or ():
            if isinstance(child, node_class):
                if child.parent is not node or id(child) in seen:
                    return False
                seen.add(id(child))
                stack.append(child)
    return True


def _has(root, wanted, node_class) -> bool:
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, wanted):
            return True
        stack.extend(child for child in node.children or () if isinstance(child, node_class))
    return False


class _Parsed:
    """A condition parsed up to `_make_op_condition`, for its text and names."""

    __slots__ = ("tree", "value_names", "names_found", "values_found")

    def __init__(self, tree, value_names, names_found, values_found):
        self.tree = tree
        self.value_names = value_names
        self.names_found = names_found
        self.values_found = values_found


def _install_condition_cache(Parser) -> None:
    original_parse = Parser.parse
    value_kind = Parser.Kind.EXPRESSION_ATTRIBUTE_VALUE
    kept: OrderedDict[tuple, _Parsed] = OrderedDict()

    class Recorder(Parser):
        """moto's parser, noting the values it looks up and the tree it makes the condition of."""

        def __init__(self, *args):
            super().__init__(*args)
            self.value_names: list[str] = []
            self.tree = None

        def _lookup_expression_attribute_value(self, name):
            value = super()._lookup_expression_attribute_value(name)
            self.value_names.append(name)
            return value

        def _make_op_condition(self, node):
            if self.tree is None:
                self.tree = node
            return super()._make_op_condition(node)

    def with_values(node, values):
        if node.kind == value_kind:
            return node._replace(value=values[node.text])
        if not node.children:
            return node
        return node._replace(children=[with_values(child, values) for child in node.children])

    def parse(self):
        expression, names = self.condition_expression, self.expression_attribute_names
        if type(self) is not Parser or type(expression) is not str or not expression:
            return original_parse(self)
        names_key = _names_key(names)
        if names_key is NOT_KEYED:
            return original_parse(self)
        key = (expression, names_key)
        with _lock:
            parsed = kept.get(key)
            if parsed is not None:
                kept.move_to_end(key)
        if parsed is None:
            recorder = Recorder(expression, names, self.expression_attribute_values)
            try:
                op = original_parse(recorder)
            finally:
                self.expr_attr_names_found.extend(recorder.expr_attr_names_found)
                self.expr_attr_values_found.extend(recorder.expr_attr_values_found)
            with _lock:
                kept[key] = _Parsed(recorder.tree, tuple(recorder.value_names), list(recorder.expr_attr_names_found),
                                    list(recorder.expr_attr_values_found))
                while len(kept) > CONDITIONS_KEPT:
                    kept.popitem(last=False)
            return op
        values = self.expression_attribute_values
        looked_up = {}
        for name in parsed.value_names:
            looked_up[name] = values[name]  # moto's _lookup_expression_attribute_value, in its order
        tree = with_values(parsed.tree, looked_up) if looked_up else parsed.tree  # moto reads, never changes it
        self.expr_attr_names_found.extend(parsed.names_found)
        self.expr_attr_values_found.extend(parsed.values_found)
        return self._make_op_condition(tree)

    parse.__wrapped__ = original_parse
    Parser.parse = parse
