"""moto's UpdateExpression handling without the generic deep copies.

moto 5.2.5 parses an UpdateExpression twice per UpdateItem (once in the response handler to
check its names and values, once in the backend), and `Validator.__init__` then deep-copies the
parsed tree with `copy.deepcopy`, which for these plain node objects goes through
`__reduce_ex__` and `copy._reconstruct`. A profile of the local stack's moto server while the
mail workers sent notice batches (py-spy, GIL holder) put about 40 % of the server's time there:
every claim and every settle of a batch is an UpdateItem or a TransactWriteItems with updates.

`install()`

1. keeps the tree `UpdateExpressionParser.make` built per expression text (at most
   `PARSED_KEPT`) and answers later calls with the same tree. Nothing in moto changes a tree it
   got from `make`: the handlers only look for placeholders (`find_clauses`), and the backend
   hands it to `UpdateExpressionValidator`, which copies it before it rewrites anything (the
   copy is what gets executed). Invalid expressions raise as before: nothing is kept for them;
2. gives moto's AST `Node` a `__deepcopy__` for that copy: a new instance of the same class
   whose attributes are copied the way `copy.deepcopy` copies them (through the same memo, so
   parent links and shared nodes stay shared), with strings and `None` taken as they are and
   child lists copied in place, without the generic pickling protocol (about 3× cheaper).

Tests compare the trees and copies with moto's own node by node, check that repeated updates
leave the kept tree as parsed, and run updates through the API.
"""
from __future__ import annotations

import copy
import threading
from collections import OrderedDict

PARSED_KEPT = 512
_installed = False


def install() -> None:
    """Patches moto's update expression parser and AST nodes (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.parsing.ast_nodes import Node
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    Node.__deepcopy__ = _node_deepcopy
    original_make = UpdateExpressionParser.make.__func__
    kept: OrderedDict[str, object] = OrderedDict()
    lock = threading.Lock()

    def make(cls, expression_str):
        with lock:
            tree = kept.get(expression_str)
            if tree is not None:
                kept.move_to_end(expression_str)
                return tree
        tree = original_make(cls, expression_str)
        with lock:
            kept[expression_str] = tree
            while len(kept) > PARSED_KEPT:
                kept.popitem(last=False)
        return tree

    make.__wrapped__ = original_make
    UpdateExpressionParser.make = classmethod(make)
    _installed = True


def installed() -> bool:
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    return hasattr(UpdateExpressionParser.make, "__wrapped__")


def _node_deepcopy(self, memo: dict):
    cls = self.__class__
    copied = cls.__new__(cls)
    memo[id(self)] = copied
    state = copied.__dict__
    for name, value in self.__dict__.items():
        if value is None or type(value) is str:
            state[name] = value
        elif type(value) is list and id(value) not in memo:
            items = memo[id(value)] = []
            for element in value:
                items.append(element if element is None or type(element) is str else copy.deepcopy(element, memo))
            state[name] = items
        else:
            state[name] = copy.deepcopy(value, memo)
    return copied
