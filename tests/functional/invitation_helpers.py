"""Helpers for the invitation tests: invite, find the link the mail carries, call the pages."""
from __future__ import annotations

import json
from dataclasses import dataclass

from tests.functional.conftest import table_items


def invite(api, account_id: str, email: str, status: int = 201, **fields):
    reply = api.post(f"/accounts/{account_id}/invitations", {"email": email, **fields})
    assert reply.status == status, reply.json
    return reply.json


def link_of(invitation: dict) -> str:
    """The link of the invitation's mail, read from its outbox recipient item (the test's view
    of the mail before it is sent; the app stores only the token's hash elsewhere)."""
    pk = f"T#{_tenant_of(invitation)}#J#{invitation['mail_job_id']}"
    for item in table_items():
        if item["pk"]["S"] == pk and item["sk"]["S"].startswith("R#"):
            return item["data"]["M"]["link"]["S"]
    raise AssertionError("no outbox recipient for the invitation's mail")


def token_of(invitation: dict) -> str:
    return link_of(invitation).rsplit("/", 1)[1]


def _tenant_of(invitation: dict) -> str:
    for item in table_items():
        if item["sk"]["S"] == "INVITATION" and item["invitation_id"]["S"] == invitation["invitation_id"]:
            return item["tenant_id"]["S"]
    raise AssertionError("invitation not stored")


@dataclass
class Page:
    status: int
    body: str
    headers: dict

    @property
    def json(self):
        return json.loads(self.body)


def page(chalice_client, method: str, path: str, headers: dict | None = None, body: bytes = b"") -> Page:
    all_headers = {"content-type": "application/x-www-form-urlencoded"} if method == "POST" else {}
    all_headers.update(headers or {})
    response = chalice_client.http.request(method, path, headers=all_headers, body=body)
    text = response.body.decode() if isinstance(response.body, bytes) else (response.body or "")
    return Page(response.status_code, text, {k.lower(): v for k, v in response.headers.items()})


def accept(chalice_client, token: str, **kw) -> Page:
    return page(chalice_client, "POST", f"/invitations/{token}/accept", **kw)


def decline(chalice_client, token: str, **kw) -> Page:
    return page(chalice_client, "POST", f"/invitations/{token}/decline", **kw)


def membership(api, account_id: str, person_id: str):
    return api.get(f"/accounts/{account_id}/contacts/{person_id}")
