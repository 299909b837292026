"""The mails SES (moto, in this process) accepted, rendered for humans and tests.

Handles every kind moto records: SendEmail, SendRawEmail (MIME parsed), SendTemplatedEmail and
SendBulkTemplatedEmail (one entry per destination, template rendered with its data).
"""
from __future__ import annotations

import email
import json
import re
from email import policy
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Any

from infra.local_stack import ses_capture
from infra.local_stack.fake_aws import ACCOUNT_ID, REGION
from infra.local_stack.ses_templates import RenderingFailure, render

_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'()\[\]]+")
_LOOKS_LIKE_HTML = re.compile(r"<[a-zA-Z][^>]*>")


def read_outbox(account_id: str = ACCOUNT_ID, region: str = REGION) -> list[dict[str, Any]]:
    """Every accepted mail, oldest first: to, cc, bcc, from, subject, text, html, links, …"""
    from moto.ses.models import ses_backends

    backend = ses_backends[account_id][region]
    entries: list[dict[str, Any]] = []
    for message in list(backend.sent_messages):
        entries.extend(render_message(message, backend.templates))
    return entries


def clear_outbox(account_id: str = ACCOUNT_ID, region: str = REGION) -> None:
    """Forgets every accepted mail (SES quotas and templates stay)."""
    from moto.ses.models import ses_backends

    ses_backends[account_id][region].sent_messages.clear()


def render_message(message: Any, templates: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The outbox entries for one message moto recorded (several for a bulk send)."""
    kind = type(message).__name__
    if kind == "RawMessage":
        return [_raw_entry(message)]
    if kind == "TemplateMessage" and isinstance(message.destinations, list):
        default = _json_object(message.template_data)
        return [
            _templated_entry(f"{message.id}-{index}", "SendBulkTemplatedEmail", message.source,
                             destination.get("Destination", {}), message.template, templates,
                             {**default, **_json_object(destination.get("ReplacementTemplateData"))})
            for index, destination in enumerate(message.destinations)
        ]
    if kind == "TemplateMessage":
        return [_templated_entry(message.id, "SendTemplatedEmail", message.source, message.destinations,
                                 message.template, templates, _json_object(message.template_data))]
    return [_simple_entry(message)]


def links_in(text: str | None, html: str | None) -> list[str]:
    """hrefs of the HTML part, then URLs in the text part, without duplicates."""
    links: list[str] = []
    if html:
        collector = _HrefCollector()
        collector.feed(html)
        links.extend(collector.hrefs)
    if text:
        links.extend(url.rstrip(".,;:!?") for url in _URL_IN_TEXT.findall(text))
    return list(dict.fromkeys(links))


def _entry(message_id: str, kind: str, source: str, destinations: dict[str, list[str]], subject: str | None,
           text: str | None, html: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "id": message_id, "kind": kind, "from": source,
        "to": list(destinations.get("ToAddresses", [])), "cc": list(destinations.get("CcAddresses", [])),
        "bcc": list(destinations.get("BccAddresses", [])),
        "subject": subject, "text": text, "html": html, "links": links_in(text, html), **extra,
    }


def _simple_entry(message: Any) -> dict[str, Any]:
    bodies = ses_capture.bodies_of(message.id)
    if bodies is not None:
        text, html = bodies.text, bodies.html
    elif message.body and _LOOKS_LIKE_HTML.search(message.body):
        text, html = None, message.body
    else:
        text, html = message.body, None
    return _entry(message.id, "SendEmail", message.source, message.destinations, message.subject, text, html)


def _templated_entry(message_id: str, kind: str, source: str, destinations: dict[str, list[str]],
                     template_name: str, templates: dict[str, dict[str, Any]], data: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {"template": template_name, "template_data": data, "rendering_failure": None}
    template = templates.get(template_name)
    if template is None:
        extra["rendering_failure"] = f"template {template_name!r} no longer exists"
        return _entry(message_id, kind, source, destinations, None, None, None, **extra)
    try:
        subject = render(template.get("subject_part") or "", data)
        text = render(template["text_part"], data) if template.get("text_part") else None
        html = render(template["html_part"], data, escape_html=True) if template.get("html_part") else None
    except RenderingFailure as failure:
        extra["rendering_failure"] = str(failure)  # SES would not deliver this mail
        return _entry(message_id, kind, source, destinations, None, None, None, **extra)
    return _entry(message_id, kind, source, destinations, subject, text, html, **extra)


def _raw_entry(message: Any) -> dict[str, Any]:
    parsed = email.message_from_string(message.raw_data, policy=policy.default)
    to = [address for _, address in getaddresses(parsed.get_all("To", []))]
    cc = [address for _, address in getaddresses(parsed.get_all("Cc", []))]
    recipients = [address for _, address in getaddresses(message.destinations)]
    bcc = [address for address in recipients if address not in to and address not in cc]
    text_part, html_part = parsed.get_body(preferencelist=("plain",)), parsed.get_body(preferencelist=("html",))
    text = text_part.get_content() if text_part is not None and text_part.get_content_type() == "text/plain" else None
    html = html_part.get_content() if html_part is not None and html_part.get_content_type() == "text/html" else None
    attachments = [part.get_filename() for part in parsed.iter_attachments()] if parsed.is_multipart() else []
    subject = parsed.get("Subject")
    return _entry(message.id, "SendRawEmail", message.source or str(parsed.get("From", "")),
                  {"ToAddresses": to, "CcAddresses": cc, "BccAddresses": bcc},
                  None if subject is None else str(subject), text, html, attachments=attachments)


def _json_object(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class _HrefCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("a", "area"):
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)
