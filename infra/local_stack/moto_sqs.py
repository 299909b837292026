"""ReceiveMessage in moto without rebuilding the queue's attributes for every message.

moto 5.2.5's `SQSBackend.receive_message` asks, for each message it looks at, whether the
message is still within the queue's retention period. It finds the period through
`get_queue_attributes(queue, ["MessageRetentionPeriod"])`, which builds the queue's whole
attribute map three times, and that map counts the visible, in-flight and delayed messages of
the queue. One receive therefore costs O(messages²): with 1,000 mail jobs queued, a profile of
the local stack (py-spy) put about a fifth of its time there.

`install()` replaces that check with the same arithmetic on the queue's own
`message_retention_period`: a message sent at `sent_timestamp` (ms) is kept while
`retention + sent_timestamp / 1000 > now`, as moto decides. Installed by the local stack
(`EmbeddedAws.start`).
"""
from __future__ import annotations

_installed = False


def install() -> None:
    """Patches moto's SQS backend (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    original = SQSBackend.is_message_valid_based_on_retention_period

    def is_message_valid_based_on_retention_period(self, queue_name: str, message) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > unix_time()

    is_message_valid_based_on_retention_period.__wrapped__ = original
    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period
    _installed = True


def installed() -> bool:
    from moto.sqs.models import SQSBackend

    return hasattr(SQSBackend.is_message_valid_based_on_retention_period, "__wrapped__")
