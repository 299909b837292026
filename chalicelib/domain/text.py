"""What a stored text may contain, and e-mail addresses (docs/api.md, "Text fields").

Control characters (U+0000–U+001F, U+007F–U+009F) and bidirectional overrides/isolates are refused everywhere; a
multi-line text keeps only the line feed and the tab. The marks U+200E/U+200F (and U+061C) stay:
they change no text's order beyond their own position and names in right-to-left scripts need
them. Mail headers are built from these texts with `one_line`, whatever was stored before.
"""
from __future__ import annotations

import re

BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"  # embeddings, overrides, isolates
SEPARATORS = "\u2028\u2029"  # line and paragraph separator
_CONTROLS = "\x00-\x1f\x7f-\x9f"
# The patterns are compiled on first use (re's own cache), not at import: most requests never
# need them, and compiling them all would cost every cold start.
_SINGLE_LINE_BAD = f"[{_CONTROLS}{SEPARATORS}{BIDI_CONTROLS}]"
_MULTI_LINE_BAD = f"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI_CONTROLS}]"
_LINE_BREAKS = f"\r\n?|[{SEPARATORS}]"
_BREAKING = f"[{_CONTROLS}{SEPARATORS}]+"
_BIDI = f"[{BIDI_CONTROLS}]"

MAX_EMAIL, MAX_LOCAL_PART, MAX_DOMAIN = 254, 64, 253
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = rf"{_ATEXT}(?:\.{_ATEXT})*"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = rf"(?:{_LABEL}\.)+{_LABEL}"


def line_breaks_normalised(text: str) -> str:
    """CR LF, a lone CR and U+2028/U+2029 become LF (multi-line texts store LF only)."""
    return re.sub(_LINE_BREAKS, "\n", text) if not text.isprintable() else text


def text_problem(text: str, multiline: bool = False) -> str | None:
    """Why `text` cannot be stored, or None. Multi-line texts are checked after
    `line_breaks_normalised`."""
    if text.isprintable():  # the common case: no control, separator or format character at all
        return None
    bad = re.search(_MULTI_LINE_BAD if multiline else _SINGLE_LINE_BAD, text)
    if bad is None:
        return None
    if bad.group() in "\u2028\u2029":
        return "must not contain line or paragraph separators"
    if "\u202a" <= bad.group() <= "\u2069":
        return "must not contain bidirectional control characters (U+202A-U+202E, U+2066-U+2069)"
    return "must not contain control characters"


def one_line(text: str) -> str:
    """`text` fit for a mail header: every run of control characters or line breaks becomes one
    space, bidirectional controls are dropped. For texts stored before validation refused them."""
    if text.isprintable():
        return text
    return re.sub(_BIDI, "", re.sub(_BREAKING, " ", text)).strip()


def email_problem(address: str) -> str | None:
    """Why `address` is no e-mail address SES can send to, or None.

    A dot-atom local part of ASCII (SES supports no SMTPUTF8) of at most 64 characters, a host
    name (Unicode labels allowed: IDNA), at most 254 characters in its ASCII form."""
    problem = text_problem(address)
    if problem:
        return problem
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return "is not an e-mail address"
    if len(local) > MAX_LOCAL_PART:
        return f"must have at most {MAX_LOCAL_PART} characters before the @"
    if not local.isascii():
        return "must have an ASCII local part (before the @)"
    if not re.fullmatch(_LOCAL_PART, local):
        return "is not an e-mail address"
    ascii_domain = _ascii_domain(domain)
    if ascii_domain is None or len(ascii_domain) > MAX_DOMAIN or not re.fullmatch(_HOST, ascii_domain):
        return "is not an e-mail address"
    if len(local) + 1 + len(ascii_domain) > MAX_EMAIL:
        return f"must have at most {MAX_EMAIL} characters"
    return None


def ascii_email(address: str) -> str:
    """The address with its domain lower-cased and in its ASCII (punycode, IDNA 2003) form:
    `anna@Müller.example` → `anna@xn--mller-kva.example`. The local part keeps its case. An
    address whose domain cannot be encoded is returned unchanged."""
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    ascii_domain = _ascii_domain(domain)
    return f"{local}@{ascii_domain}" if ascii_domain is not None else address


def _ascii_domain(domain: str) -> str | None:
    if domain.isascii():
        return domain.lower()
    try:
        return domain.lower().encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
