"""Sender identities (T3). SES verifies an address or a domain for the whole AWS account, so
Roster records which tenant started verifying it (a claim): only that tenant may use it."""
from __future__ import annotations

from chalicelib.domain.errors import Conflict, Problem
from chalicelib.domain.vocabulary import IDENTITY_KINDS  # where the routes' schemas read it (cold start)

ADDRESS, DOMAIN = IDENTITY_KINDS
FIELD = "sender.address"


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[1].lower()


def claim_names(address: str) -> dict[str, str]:
    """The identities that cover `address`, as claims name them: SES may tell an address's cases
    apart, a claim does not, so no tenant can get around another's claim by changing a letter."""
    return {ADDRESS: address.lower(), DOMAIN: domain_of(address)}


def is_platform_address(address: str, mail_domain: str) -> bool:
    """The platform's mail domain (and its sub-domains) send every tenant's default mail."""
    domain, platform = domain_of(address), mail_domain.lower()
    return domain == platform or domain.endswith("." + platform)


def dkim_records(domain: str, tokens) -> list[dict]:
    """The CNAME records Easy DKIM asks the domain's owner to publish."""
    return [{"name": f"{token}._domainkey.{domain}", "type": "CNAME", "value": f"{token}.dkim.amazonses.com"}
            for token in tokens]


class SenderTaken(Conflict):
    def __init__(self, problem: str = "is claimed by another tenant"):
        super().__init__("This sender address belongs to someone else; use an address of your own.",
                         "sender_taken", [Problem(FIELD, problem)])


def taken_by_platform() -> SenderTaken:
    return SenderTaken("is in the platform's own mail domain")
