"""Sending through SES v1 templates (v2 templated/bulk sending does not work under moto)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from chalicelib.domain.text import ascii_email, one_line
from chalicelib.mail.catalog import subject_fields

TRANSIENT_CODES = {
    "Throttling", "ThrottlingException", "TooManyRequestsException", "ServiceUnavailable",
    "ServiceUnavailableException", "InternalFailure", "InternalServerError", "RequestTimeout",
}
BULK_LIMIT = 50


class TransientMailError(Exception):
    """SES could not take the mail now (throttled, unavailable): try again later."""


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message_id: str | None = None
    error: str | None = None


class SesMailer:
    def __init__(self, client, configuration_set: str | None = None):
        self._client = client
        # In AWS, bounces and complaints are published through this configuration set (the
        # stack's event destination); locally there is none and moto uses identity notifications.
        self._extra = {"ConfigurationSetName": configuration_set} if configuration_set else {}

    def send(self, sender: tuple[str, str], reply_to: list[str], template: str, default_data: dict,
             destinations: list[tuple[str, dict]]) -> list[Outcome]:
        """Sends one template to up to 50 recipients, each with their own replacement data;
        a single recipient goes through SendTemplatedEmail. `sender` is (display name, address).

        Whatever the texts hold (names stored before validation refused control characters),
        no value can add a header: the Source is built by `mailbox`, and the values a template
        puts into its Subject are made one line."""
        assert 0 < len(destinations) <= BULK_LIMIT
        source, fields = mailbox(*sender), subject_fields()
        reply_to = [ascii_email(address) for address in reply_to]
        default_data = _one_line_subject(default_data, fields)
        destinations = [(email if email.isascii() else ascii_email(email), _one_line_subject(data, fields))
                        for email, data in destinations]
        try:
            if len(destinations) == 1:
                email, data = destinations[0]
                response = self._client.send_templated_email(
                    Source=source, ReplyToAddresses=reply_to, Destination={"ToAddresses": [email]},
                    Template=template, TemplateData=json.dumps({**default_data, **data}), **self._extra)
                return [Outcome(True, response["MessageId"])]
            response = self._client.send_bulk_templated_email(
                Source=source, ReplyToAddresses=reply_to, Template=template,
                DefaultTemplateData=json.dumps(default_data),
                Destinations=[{"Destination": {"ToAddresses": [email]}, "ReplacementTemplateData": json.dumps(data)}
                              for email, data in destinations], **self._extra)
        except Exception as exc:  # botocore errors: transient ones are retried, others fail the recipients
            raise _classify(exc) from exc
        return [Outcome(status.get("Status") == "Success", status.get("MessageId"), status.get("Error"))
                for status in response["Status"]]


@lru_cache(maxsize=256)  # a worker sends for few tenants: each sender's header is built once
def mailbox(display_name: str | None, address: str) -> str:
    """`Display Name <address>` as one header line: the name without control characters or line
    breaks (`one_line`), RFC 2047 encoded words (at most 75 characters each) when it is not ASCII,
    quoted (`formataddr`) when it holds specials; the address parsed by `email.headerregistry`
    (exactly one addr-spec) with its domain in ASCII."""
    from email.header import Header
    from email.headerregistry import Address
    from email.utils import formataddr

    try:
        addr_spec = Address(addr_spec=ascii_email(address.strip())).addr_spec
    except ValueError as exc:  # header parse defects are ValueErrors too
        raise PermanentMailError(f"invalid sender address: {exc}") from exc
    name = one_line(display_name or "")
    if not name.isascii():
        name = Header(name, "utf-8", maxlinelen=75).encode(linesep="")
    return formataddr((name, addr_spec))


def _one_line_subject(data: dict, fields: frozenset[str]) -> dict:
    """`data` with the values templates put into a Subject (`subject_fields`) on one line."""
    if fields.isdisjoint(data):  # most recipients' own data (name, links) is in no subject
        return data
    broken = [key for key in fields if isinstance(data.get(key), str) and not data[key].isprintable()]
    if not broken:
        return data
    return {**data, **{key: one_line(data[key]) for key in broken}}


# The one retry policy for SES: none in botocore (one attempt a call) and none in the services;
# a throttled or failed call gives its mail back to the queue, and SQS's redrive (maxReceiveCount
# receives) is the only loop, so a batch costs at most maxReceiveCount SES calls (docs/mail.md).
SES_MAX_ATTEMPTS = 1


def ses_client(region: str):
    """A boto3 SES client that makes one attempt a call (SES_MAX_ATTEMPTS)."""
    import boto3
    from botocore.config import Config

    return boto3.client("ses", region_name=region,
                        config=Config(retries={"mode": "standard", "total_max_attempts": SES_MAX_ATTEMPTS}))


class PermanentMailError(Exception):
    """SES refused the mail for a reason a retry won't change (unverified sender, bad template)."""


def _classify(exc: Exception) -> Exception:
    from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

    if isinstance(exc, (ConnectionError, ReadTimeoutError)):
        return TransientMailError(str(exc))
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in TRANSIENT_CODES or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400) >= 500:
            return TransientMailError(code)
        return PermanentMailError(f"{code}: {exc.response.get('Error', {}).get('Message', '')}")
    return exc


class SesIdentities:
    """A tenant's own sender (T3) must be an SES-verified identity: its address, or its domain
    through Easy DKIM."""

    def __init__(self, client):
        self._client = client

    def request_verification(self, address: str) -> None:
        self._client.verify_email_identity(EmailAddress=address)

    def request_domain_verification(self, domain: str) -> list[str]:
        """Adds the domain as an identity and returns its three DKIM tokens: SES verifies the
        domain once their CNAME records are published (no TXT record is needed)."""
        return self._client.verify_domain_dkim(Domain=domain)["DkimTokens"]

    def address_status(self, address: str) -> str:
        """Success, Pending, Failed, TemporaryFailure or NotStarted."""
        found = self._client.get_identity_verification_attributes(Identities=[address])["VerificationAttributes"]
        return found.get(address, {}).get("VerificationStatus", "NotStarted")

    def domain_status(self, domain: str) -> str:
        """The domain's DKIM verification, the same vocabulary: what lets it send."""
        found = self._client.get_identity_dkim_attributes(Identities=[domain])["DkimAttributes"]
        return found.get(domain, {}).get("DkimVerificationStatus", "NotStarted")
