"""Notification preferences behind the link of every notice mail (N2, N3).

The link's token is not stored: it is `<payload>.<mac>`, the payload the base64url of tenant id,
person id and issue day, the MAC an HMAC-SHA256 (first 128 bits) of the payload under a key
derived from the platform key with a purpose string. Making a link is therefore free of I/O per
recipient (the platform key is cached by Powertools, the derived key here). A link is valid for
365 days. Rotating the platform key invalidates every link issued before the rotation.

GET and HEAD read only (mail scanners follow links); POST changes the choices through the
contact update path, every change of a request in one transaction, each audited as the person's
own (actor: the person).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import quote

from chalicelib.domain.entities import Membership
from chalicelib.domain.errors import Contention, NotFound, VersionConflict
from chalicelib.domain.notices import DESIGNATED
from chalicelib.domain.vocabulary import NOTIFICATIONS
from chalicelib.mail.catalog import pick_language

PURPOSE = b"roster/preferences/v1"
VALID_DAYS = 365
MAC_BYTES = 16  # 128 bits
MAX_TOKEN_LENGTH = 300
ATTEMPTS = 5



@dataclass(frozen=True)
class AccountChoices:
    account_id: str
    account_name: str
    notifications: list[str]
    designated: list[str]  # "technical", "administrative": the slots the person holds here
    version: int

    @property
    def forced(self) -> dict[str, list[str]]:
        """type → the designated slots that make the person receive it anyway."""
        out: dict[str, list[str]] = {}
        for slot in self.designated:
            for notice_type in DESIGNATED[slot]:
                out.setdefault(notice_type, []).append(slot)
        return out


@dataclass(frozen=True)
class PreferencePage:
    """What a preferences page shows. `state`: open | saved | unsubscribed | not_found | invalid."""

    state: str
    language: str
    person_name: str = ""
    accounts: list[AccountChoices] = field(default_factory=list)
    notice_type: str | None = None  # the type the link or the unsubscribe names


class PreferenceService:
    def __init__(self, repositories, clock, platform_key_source, portal, public_base_url: str):
        self._repos = repositories
        self._clock = clock
        self._keys = platform_key_source
        self._portal = portal
        self._base_url = public_base_url.rstrip("/")
        self._derived: tuple[str, bytes] | None = None  # (platform key, derived key)

    # --- the link ----------------------------------------------------------------------------
    def link(self, tenant_id: str, person_id: str, notice_type: str | None = None) -> str:
        """`<public base URL>/preferences/<token>` (+ `?type=<notice_type>`). No I/O beyond the
        cached platform key: call it once per recipient."""
        url = f"{self._base_url}/preferences/{self.token(tenant_id, person_id)}"
        return url + _type_query(notice_type)

    def unsubscribe_link(self, tenant_id: str, person_id: str, notice_type: str) -> str:
        """The RFC 8058 target (`List-Unsubscribe` with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`)."""
        url = f"{self._base_url}/preferences/{self.token(tenant_id, person_id)}/unsubscribe"
        return url + _type_query(notice_type)

    def token(self, tenant_id: str, person_id: str) -> str:
        issued = self._clock.now().date().strftime("%Y%m%d")
        payload = _b64(f"{tenant_id}|{person_id}|{issued}".encode())
        return f"{payload}.{_b64(self._mac(payload))}"

    def _mac(self, payload: str) -> bytes:
        return hmac.new(self._key(), payload.encode("ascii"), hashlib.sha256).digest()[:MAC_BYTES]

    def _key(self) -> bytes:
        platform_key = self._keys.current()
        if not platform_key:
            raise RuntimeError("The platform key is not available: no preferences link can be made or checked.")
        if self._derived is None or self._derived[0] != platform_key:
            self._derived = (platform_key, hmac.new(platform_key.encode(), PURPOSE, hashlib.sha256).digest())
        return self._derived[1]

    def _subject(self, token: str) -> tuple[str, str] | None:
        """(tenant_id, person_id) of a genuine, unexpired token, else None."""
        if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
            return None
        payload, mac = token.split(".")
        try:
            given = _unb64(mac)
            tenant_id, person_id, issued = _unb64(payload).decode("ascii").split("|")
            issued_on = date(int(issued[:4]), int(issued[4:6]), int(issued[6:8]))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        if not hmac.compare_digest(given, self._mac(payload)):
            return None
        today = self._clock.now().date()
        if not today - timedelta(days=VALID_DAYS) <= issued_on <= today + timedelta(days=1):
            return None
        return tenant_id, person_id

    # --- the page -----------------------------------------------------------------------------
    def view(self, token: str, language_hint: str, notice_type: str | None = None) -> PreferencePage:
        """What GET shows. Reads only."""
        return self._page(token, language_hint, "open", notice_type if notice_type in NOTIFICATIONS else None)

    def refuse(self, token: str, language_hint: str) -> PreferencePage:
        """A request whose body says nothing usable: "invalid" for a genuine link, else the 404."""
        return self._page(token, language_hint, "invalid", None)

    def update(self, token: str, choices: dict[str, set[str]], language_hint: str = "en") -> PreferencePage:
        """Sets the notification types of each named account (active memberships only; others and
        unknown types are ignored). Unchanged memberships are not written."""
        return self._change(token, language_hint, "saved", None,
                            lambda m: set(choices[m.account_id]) & set(NOTIFICATIONS)
                            if m.account_id in choices else set(m.notifications))

    def unsubscribe(self, token: str, notice_type: str, language_hint: str = "en") -> PreferencePage:
        """Removes `notice_type` from every active membership of the person."""
        if notice_type not in NOTIFICATIONS:
            return self.refuse(token, language_hint)
        return self._change(token, language_hint, "unsubscribed", notice_type,
                            lambda m: set(m.notifications) - {notice_type})

    def _change(self, token, language_hint, state, notice_type, wanted) -> PreferencePage:
        found = self._read(token)
        if found is None:
            return self._not_found(language_hint)
        person_id, me, tenant = found
        accounts = {row.membership.account_id: row.account for row in me.memberships}
        # the page shows each membership as written (or as re-read): no second read of the person
        memberships = self._set([row.membership for row in me.memberships], wanted,
                                {"type": "person", "id": person_id})
        return self._build(person_id, me.person, [(m, accounts.get(m.account_id)) for m in memberships], tenant,
                           state, notice_type)

    def _set(self, memberships: list[Membership], wanted, actor: dict) -> list[Membership]:
        """Every change of the request in one transaction, each membership conditional on the
        version read (ContactService.update_several). When one changed meanwhile, all are read
        again, strongly consistent, and the choices applied to what they are now. Returns the
        active memberships as they now are, in the order given."""
        current = [m for m in memberships if m.is_active]
        for _ in range(ATTEMPTS):
            changes = [(m, {"notifications": sorted(wanted(m))}) for m in current
                       if sorted(wanted(m)) != sorted(m.notifications)]
            try:
                written = {m.account_id: m for m in self._portal.update_my_memberships(changes, actor=actor)}
            except Contention:
                again = self._repos.memberships.get_many(current[0].tenant_id, current[0].person_id,
                                                         [m.account_id for m in current])
                current = [again[m.account_id] for m in current
                           if m.account_id in again and again[m.account_id].is_active]
                continue
            return [written.get(m.account_id, m) for m in current]
        raise VersionConflict("Contact")

    def _read(self, token: str):
        """(person_id, the person's memberships with accounts, tenant) for a genuine link, else None."""
        subject = self._subject(token)
        if subject is None:
            return None
        tenant_id, person_id = subject
        try:
            me = self._portal.me(tenant_id, person_id, with_tenant=True)
        except NotFound:
            return None
        return None if me.tenant is None else (person_id, me, me.tenant)

    def _page(self, token: str, language_hint: str, state: str, notice_type: str | None) -> PreferencePage:
        found = self._read(token)
        if found is None:
            return self._not_found(language_hint)
        person_id, me, tenant = found
        rows = [(r.membership, r.account) for r in me.memberships if r.membership.is_active]
        return self._build(person_id, me.person, rows, tenant, state, notice_type)

    @staticmethod
    def _build(person_id, person, rows, tenant, state, notice_type) -> PreferencePage:
        language = pick_language(person.language, *(a.language for _, a in rows if a), tenant.default_language)
        accounts = [AccountChoices(m.account_id, (a.name if a else "") or "", sorted(m.notifications),
                                   _slots(a, person_id), m.version) for m, a in rows]
        name = " ".join(p for p in (person.first_name, person.last_name) if p)
        return PreferencePage(state, language, name, accounts, notice_type)

    @staticmethod
    def _not_found(language_hint: str) -> PreferencePage:
        """One page for every link that is not (or no longer) genuine: nothing tells them apart."""
        return PreferencePage("not_found", pick_language(language_hint))


def _slots(account, person_id: str) -> list[str]:
    if account is None:
        return []
    return [slot for slot in DESIGNATED if getattr(account, f"{slot}_contact_id") == person_id]


def _type_query(notice_type: str | None) -> str:
    if notice_type is None:
        return ""
    if notice_type not in NOTIFICATIONS:
        raise ValueError(f"unknown notification type {notice_type!r}")
    return f"?type={quote(notice_type)}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or not all(c.isalnum() or c in "-_" for c in text) or not text.isascii():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
