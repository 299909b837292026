"""Realistic SES feedback from moto's mailbox simulator.

moto publishes a canned notification (fixed message id, recipient1@example.com) for single
sends only. SES itself reports the real message id and recipient, for bulk sends too. This
makes moto do the same: after a send, each simulator address among the recipients
(bounce@…, complaint@… of simulator.amazonses.com) produces the notification SES would
publish to the sending identity's topic. Used by the local stack and by the tests.
"""
from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone
from email.utils import parseaddr
from typing import Any

SIMULATOR_DOMAIN = "simulator.amazonses.com"
# A bare address of dot-atoms (RFC 5322): parseaddr returns it unchanged, so it is split directly
# (parseaddr costs ~10 µs an address, most of a 50-destination bulk send's feedback check).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
PLAIN_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*\Z")
_installed = False


def install() -> None:
    """Patches moto's SES backend (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.ses.models import SESBackend

    # moto's canned notification (a dict, which SQS cannot deliver) is replaced by ours. The name
    # ends in "__", so Python does not mangle it: `_SESBackend__…` (as before) replaced nothing.
    SESBackend.__process_sns_feedback__ = lambda self, source, destinations: None
    for name, addresses_of in (("send_email", _single), ("send_templated_email", _single),
                               ("send_bulk_templated_email", _bulk)):
        original = getattr(SESBackend, name)
        setattr(SESBackend, name, _with_feedback(original, addresses_of))
    _installed = True


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
    if not PLAIN_ADDRESS.match(address):
        address = parseaddr(address)[1]
    local, _, domain = address.partition("@")
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
