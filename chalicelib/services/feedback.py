"""SES feedback (bounces, complaints): the address is suppressed whatever mail it was about, and
the feedback goes to the pipeline that sent the message — an outbox job or a notice batch —
found by the SES message map both write (`SES#<message id>`)."""
from __future__ import annotations

from typing import Callable

from chalicelib.domain.mail import BOUNCED, COMPLAINED, mask_email
from chalicelib.domain.rules import normalise_email


def parse_feedback(notification: dict) -> tuple[str, str, list[str], str] | None:
    """(status, kind, addresses, message id) of a bounce or complaint; None for anything else,
    a transient (soft) bounce included: SES retries it itself."""
    kind = notification.get("notificationType") or notification.get("eventType")
    if kind == "Bounce":
        bounce = notification.get("bounce", {})
        if bounce.get("bounceType") == "Transient":
            return None
        status, found = BOUNCED, bounce.get("bouncedRecipients", [])
    elif kind == "Complaint":
        status, found = COMPLAINED, notification.get("complaint", {}).get("complainedRecipients", [])
    else:
        return None
    addresses = [normalise_email(r.get("emailAddress")) for r in found if r.get("emailAddress")]
    return status, kind, addresses, (notification.get("mail") or {}).get("messageId", "")


class FeedbackRouter:
    """Suppresses the addresses, then asks the message map which pipeline sent the message and
    hands it the feedback: `jobs()` (MailService) or `notices()` (NoticeDelivery), built on use."""

    def __init__(self, repositories, clock, jobs: Callable, notices: Callable, logger):
        self._repo = repositories.mail
        self._clock = clock
        self._jobs, self._notices = jobs, notices
        self._log = logger

    def record(self, notification: dict) -> int:
        """Returns how many addresses were suppressed."""
        parsed = parse_feedback(notification)
        if parsed is None:
            return 0
        status, kind, addresses, message_id = parsed
        now = self._clock.now_iso()
        for address in addresses:
            self._repo.suppress(address, status, now)
        message = self._repo.message(message_id) if message_id and addresses else None
        pipeline = getattr(message, "pipeline", None) or "job"
        if message is not None and pipeline == "notice":
            self._notices().record_feedback(message, status)
        elif message is not None:
            self._jobs().record_feedback(message, status, kind, addresses)
        self._log.info("mail feedback", extra={"kind": kind, "pipeline": pipeline if message else None,
                                               "addresses": [mask_email(a) for a in addresses]})
        return len(addresses)
