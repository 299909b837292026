"""Gives each destination of SendBulkTemplatedEmail its `Status`.

SES answers every destination with a `Status` ("Success", or why it refused the mail), which is
what Roster reads to tell an accepted mail from a refused one. moto 5.2.5 answers only the
`MessageId`, so every mail would count as refused. `install()` adds `"Status": "Success"` to
each destination moto accepted (moto refuses a whole call or nothing); it raises on another moto
version (`moto_version.py`).
"""
from __future__ import annotations

from infra.local_stack import moto_version


def install() -> None:
    """Wraps moto's SendBulkTemplatedEmail handler once; later calls are no-ops."""
    moto_version.check_moto_version(__name__)
    from moto.ses.responses import EmailResponse

    original = EmailResponse.send_bulk_templated_email
    if hasattr(original, "__wrapped__"):
        return

    def send_bulk_templated_email(self: EmailResponse):  # type: ignore[no-untyped-def]
        result = original(self)
        for status in result.result["Status"]:
            status.setdefault("Status", "Success")
        return result

    send_bulk_templated_email.__wrapped__ = original  # type: ignore[attr-defined]
    EmailResponse.send_bulk_templated_email = send_bulk_templated_email  # type: ignore[method-assign]


def uninstall() -> None:
    """Gives moto its own handler back (for tests that compare)."""
    from moto.ses.responses import EmailResponse

    handler = EmailResponse.send_bulk_templated_email
    EmailResponse.send_bulk_templated_email = getattr(handler, "__wrapped__", handler)  # type: ignore[method-assign]


def installed() -> bool:
    from moto.ses.responses import EmailResponse

    return hasattr(EmailResponse.send_bulk_templated_email, "__wrapped__")
