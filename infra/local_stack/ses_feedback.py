"""Realistic SES feedback from moto's mailbox simulator.

moto 5.2.5 publishes a canned notification for single sends only: a dict (which its SQS cannot
deliver: ReceiveMessage on the subscribed queue fails), with a fixed message id and
recipient1@example.com. SES itself reports the real message id and recipient, for bulk sends
too. This makes moto do the same: after a send, each simulator address among the recipients
(bounce@…, complaint@… of simulator.amazonses.com) produces the notification SES would
publish to the sending identity's topic. Used by the local stack and by the tests of feedback;
`install()` raises on another moto version (`moto_version.py`).
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from email.utils import parseaddr
from typing import Any

from infra.local_stack import moto_version

SIMULATOR_DOMAIN = "simulator.amazonses.com"
_SENDS = ("send_email", "send_templated_email", "send_bulk_templated_email")
_originals: dict = {}


def install() -> None:
    """Patches moto's SES backend (idempotent)."""
    moto_version.check_moto_version(__name__)
    from moto.ses.models import SESBackend

    if _originals:
        return
    _originals.update({name: SESBackend.__dict__[name] for name in ("__process_sns_feedback__", *_SENDS)})

    # moto's canned notification (a dict, which SQS cannot deliver) is replaced by ours. The name
    # ends in "__", so Python does not mangle it: `_SESBackend__…` (as before) replaced nothing.
    SESBackend.__process_sns_feedback__ = lambda self, source, destinations: None
    for name, addresses_of in zip(_SENDS, (_single, _single, _bulk)):
        setattr(SESBackend, name, _with_feedback(_originals[name], addresses_of))


def uninstall() -> None:
    """Gives moto its own SES backend back (for tests that compare)."""
    from moto.ses.models import SESBackend

    for name, original in _originals.items():
        setattr(SESBackend, name, original)
    _originals.clear()


def installed() -> bool:
    return bool(_originals)


def _single(args, kwargs, result) -> list[tuple[str, str]]:
    destinations = kwargs.get("destinations") if "destinations" in kwargs else args[-1]
    addresses = [a for key in ("ToAddresses", "CcAddresses", "BccAddresses") for a in destinations.get(key, [])]
    return [(address, result.id) for address in addresses]


def _bulk(args, kwargs, result) -> list[tuple[str, str]]:
    destinations = kwargs.get("destinations") if "destinations" in kwargs else args[-1]
    pairs = []
    for destination, message_id in zip(destinations, result.ids):
        for address in destination["Destination"].get("ToAddresses", []):
            pairs.append((address, message_id))
    return pairs


def _with_feedback(original, addresses_of):
    def send(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        source = kwargs.get("source") if "source" in kwargs else args[0]
        for address, message_id in addresses_of(args, kwargs, result):
            kind = _kind(address)
            if kind:
                _publish(self, source, address, message_id, kind)
        return result

    return send


def _kind(address: str) -> str | None:
    local, _, domain = parseaddr(address)[1].partition("@")
    if domain.lower() != SIMULATOR_DOMAIN:
        return None
    local = local.split("+")[0].lower()
    return {"bounce": "Bounce", "complaint": "Complaint"}.get(local)


def _publish(backend, source: str, address: str, message_id: str, kind: str) -> None:
    from moto.sns.models import sns_backends

    sender = parseaddr(source)[1]
    topic = backend.sns_topics.get(sender, {}).get(kind) or backend.sns_topics.get(sender.split("@")[-1], {}).get(kind)
    if not topic:
        return
    sns_backends[backend.account_id][backend.region_name].publish(json.dumps(notification(kind, sender, address, message_id)),
                                                                  arn=topic)


def notification(kind: str, source: str, address: str, message_id: str) -> dict[str, Any]:
    """The notification SES publishes (identity notifications, format of the SES docs)."""
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    mail = {"timestamp": now, "source": source, "messageId": message_id, "destination": [address]}
    if kind == "Bounce":
        return {"notificationType": "Bounce", "mail": mail, "bounce": {
            "bounceType": "Permanent", "bounceSubType": "General", "timestamp": now, "feedbackId": str(uuid.uuid4()),
            "bouncedRecipients": [{"emailAddress": address, "action": "failed", "status": "5.1.1",
                                   "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]}}
    return {"notificationType": "Complaint", "mail": mail, "complaint": {
        "timestamp": now, "feedbackId": str(uuid.uuid4()), "complaintFeedbackType": "abuse",
        "complainedRecipients": [{"emailAddress": address}]}}
