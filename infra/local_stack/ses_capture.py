"""Keeps both bodies of SES SendEmail calls.

moto 5.2.5 stores only one body per SendEmail (the HTML one when both are given), so the outbox
could not show the text part. `install()` wraps moto's SendEmail response handler in this
process to remember the text and HTML parts by message id; it raises on another moto version
(`moto_version.py`).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from infra.local_stack import moto_version

_lock = threading.Lock()
_bodies: dict[str, "EmailBodies"] = {}


@dataclass(frozen=True)
class EmailBodies:
    text: str | None
    html: str | None


def install() -> None:
    """Wraps moto's SendEmail handler once; later calls are no-ops."""
    moto_version.check_moto_version(__name__)
    from moto.ses.responses import EmailResponse

    original = EmailResponse.send_email
    if hasattr(original, "__wrapped__"):
        return

    def send_email(self: EmailResponse):  # type: ignore[no-untyped-def]
        result = original(self)
        bodies = EmailBodies(self._get_param("Message.Body.Text.Data"), self._get_param("Message.Body.Html.Data"))
        with _lock:
            _bodies[result.result["MessageId"]] = bodies
        return result

    send_email.__wrapped__ = original  # type: ignore[attr-defined]
    EmailResponse.send_email = send_email  # type: ignore[method-assign]


def uninstall() -> None:
    """Gives moto its own SendEmail handler back (for tests that compare)."""
    from moto.ses.responses import EmailResponse

    EmailResponse.send_email = getattr(EmailResponse.send_email, "__wrapped__", EmailResponse.send_email)


def installed() -> bool:
    from moto.ses.responses import EmailResponse

    return hasattr(EmailResponse.send_email, "__wrapped__")


def bodies_of(message_id: str) -> EmailBodies | None:
    """The captured bodies of a SendEmail message, if it was sent after `install()`."""
    with _lock:
        return _bodies.get(message_id)
