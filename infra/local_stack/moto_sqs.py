"""SQS in moto without rebuilding a queue's attributes for every message received or sent.

moto 5.2.5's `Queue.attributes` builds the queue's whole attribute map, and that map counts the
visible, in-flight and delayed messages of the queue: each count walks every message and reads
the clock for it (`unix_time_millis`). moto builds that map where it needs one attribute:

- `SQSBackend.receive_message` asks, for each message it looks at, whether the message is still
  within the queue's retention period, through `get_queue_attributes(queue,
  ["MessageRetentionPeriod"])`, which builds the map three times. One receive therefore costs
  O(messages²): with 1,000 mail jobs queued, a profile of the local stack (py-spy) put about a
  fifth of its time there.
- `SQSBackend.send_message` (also once per entry of a `SendMessageBatch`) reads
  `queue.attributes.get("ContentBasedDeduplication")` for every message, and for a FIFO queue
  `_validate_message` and `Queue.add_message` read it three more times: O(messages) per send,
  8 % of moto's CPU in a profile of bench/notices.py (10,000 recipients).

`install()` replaces the retention check with the same arithmetic on the queue's own
`message_retention_period`: a message sent at `sent_timestamp` (ms) is kept while
`retention + sent_timestamp / 1000 > now`, as moto decides. The three send functions stay
moto's own code, compiled again from their source with each
`<queue>.attributes.get("ContentBasedDeduplication")` replaced by what `attributes` renders for
it, read from the queue itself (`_RENDERED`: the queue's `content_based_deduplication`, a bool
written "true"/"false", for a FIFO queue, None for a standard one), so a send no longer looks at
the other messages of a standard queue. The originals are kept as `__wrapped__`; install fails
if moto's source no longer reads the attribute as expected. Tests compare both against moto's
own on standard and FIFO queues (tests/local_stack/test_moto_sqs.py). Installed by the local
stack (`EmbeddedAws.start`).

Measured in-process (`time.process_time` around moto's `call_action`): a SendMessageBatch of 10
into a standard queue holding 1,000 messages took ~282 ms, ~1.2 ms now (10,000 messages: ~2.8 s,
~1.2 ms); into a FIFO queue with content-based deduplication holding 1,000, ~1.7 s and ~1.4 ms
(what is left grows with the queue: moto's own search for a duplicate).
"""
from __future__ import annotations

import ast
import inspect
import textwrap

_installed = False

_READ = 'attributes.get("ContentBasedDeduplication")'
# What Queue.attributes renders for ContentBasedDeduplication ({q}: the queue), without the map:
# FIFO attributes only for a FIFO queue, bools written as "true"/"false", anything else as is.
_RENDERED = ("((str({q}.content_based_deduplication).lower() if isinstance({q}.content_based_deduplication, bool)"
             " else {q}.content_based_deduplication) if {q}.fifo_queue else None)")
# moto's functions that read it, and how many times each does
_SENDING = (("SQSBackend", "send_message", 1), ("SQSBackend", "_validate_message", 2), ("Queue", "add_message", 1))


def install() -> None:
    """Patches moto's SQS backend (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.core.utils import unix_time
    from moto.sqs import models
    from moto.sqs.models import SQSBackend

    original = SQSBackend.is_message_valid_based_on_retention_period

    def is_message_valid_based_on_retention_period(self, queue_name: str, message) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > unix_time()

    is_message_valid_based_on_retention_period.__wrapped__ = original
    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period
    rewritten = [(cls, name, _without_attribute_map(getattr(getattr(models, cls), name), reads))
                 for cls, name, reads in _SENDING]  # all compiled before any is set
    for cls, name, function in rewritten:
        setattr(getattr(models, cls), name, function)
    _installed = True


def installed() -> bool:
    from moto.sqs import models

    patched = [("SQSBackend", "is_message_valid_based_on_retention_period")] + [(c, n) for c, n, _ in _SENDING]
    return all(hasattr(getattr(getattr(models, cls), name), "__wrapped__") for cls, name in patched)


def _without_attribute_map(function, reads: int):
    """moto's `function`, compiled again from its source (same file and line numbers, same module
    globals) with each `<queue>.attributes.get("ContentBasedDeduplication")` replaced by
    `_RENDERED`. Raises if it does not read the attribute exactly `reads` times."""
    if function.__code__.co_freevars:
        raise RuntimeError(f"moto_sqs: {function.__qualname__} is a closure; not rewritten")
    lines, first_line = inspect.getsourcelines(function)
    tree = ast.parse(textwrap.dedent("".join(lines)))
    rewrite = _ReadFromQueue()
    tree = rewrite.visit(tree)
    if rewrite.count != reads:
        raise RuntimeError(f"moto_sqs: {function.__qualname__} reads {_READ} {rewrite.count} times, "
                           f"expected {reads}; moto changed, review the patch")
    ast.increment_lineno(tree, first_line - 1)
    namespace: dict = {}
    exec(compile(tree, inspect.getsourcefile(function), "exec"), function.__globals__, namespace)
    rewritten = namespace[function.__name__]
    rewritten.__qualname__ = function.__qualname__
    rewritten.__wrapped__ = function
    return rewritten


class _ReadFromQueue(ast.NodeTransformer):
    """Replaces `<name>.attributes.get("ContentBasedDeduplication")` by `_RENDERED` for <name>."""

    def __init__(self):
        self.count = 0

    def visit_Call(self, node: ast.Call) -> ast.AST:
        node = self.generic_visit(node)
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr == "get" and isinstance(func.value, ast.Attribute)
                and func.value.attr == "attributes" and isinstance(func.value.value, ast.Name)
                and len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == "ContentBasedDeduplication"):
            self.count += 1
            rendered = ast.parse(_RENDERED.format(q=func.value.value.id), mode="eval").body
            for part in ast.walk(rendered):
                ast.copy_location(part, node)  # tracebacks point at moto's line
            return rendered
        return node
