"""The HTML pages behind links: an invitation's (the offer with Accept / Decline forms, the
outcome, expired, not found) and a notice mail's preferences link (a checkbox per account × type
with Save, a one-click unsubscribe per type, the confirmations, the 404).

Proper HTML5, localised (the texts: invitation_texts.py, preference_texts.py), every value escaped
with html.escape; no script and no external asset: the pages' CSP allows inline style only."""
from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from chalicelib.domain.vocabulary import NOTIFICATIONS
from chalicelib.pages import invitation_texts, preference_texts

if TYPE_CHECKING:
    from chalicelib.domain.invitations import PageContext
    from chalicelib.services.preferences import PreferencePage

STYLE = ("body{font-family:Helvetica,Arial,sans-serif;background:#f4f5f7;color:#1f2933;margin:0}"
         "main{max-width:560px;margin:40px auto;background:#fff;border-radius:6px;padding:24px 32px}"
         "h1{font-size:22px}dt{font-weight:bold}dd{margin:0 0 12px}"
         "form{display:inline-block;margin-right:12px}"
         "button{font-size:16px;padding:10px 20px;border-radius:4px;border:1px solid #1f4e79;cursor:pointer}"
         ".accept{background:#1f4e79;color:#fff}.decline{background:#fff;color:#1f4e79}")


def _layout(language: str, title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="{escape(language)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="robots" content="noindex"><title>{escape(title)}</title>'
            f"<style>{STYLE}</style></head><body><main>{body}</main></body></html>\n")


def _account_label(account_name: str | None, account_id: str) -> str:
    return f"{account_name} ({account_id})" if account_name else account_id


# --- an invitation link ------------------------------------------------------------------------
def _invitation_texts(ctx: PageContext) -> dict:
    return invitation_texts.TEXTS.get(ctx.language, invitation_texts.TEXTS["en"])


def invitation_offer(ctx: PageContext, token: str) -> str:
    t = _invitation_texts(ctx)
    names = invitation_texts.PERMISSION_LABELS.get(ctx.language, invitation_texts.PERMISSION_LABELS["en"])
    permissions = "".join(f"<li>{escape(names.get(p, p))}</li>" for p in ctx.permissions)
    permissions = f"<ul>{permissions}</ul>" if permissions else escape(t["none"])
    base = escape(token)  # relative: works under an API Gateway stage prefix too
    body = (f"<h1>{escape(t['title'])}</h1>"
            f"<p>{escape(t['invites'].format(inviter=ctx.inviter_name, account=ctx.account_name or ctx.account_id))}</p>"
            f"<dl><dt>{escape(t['account_id'])}</dt><dd>{escape(ctx.account_id)}</dd>"
            f"<dt>{escape(t['permissions'])}</dt><dd>{permissions}</dd>"
            f"<dt>{escape(t['expires'])}</dt><dd>{escape(ctx.expires_at[:10])}</dd></dl>"
            f'<form method="post" action="{base}/accept"><button class="accept" type="submit">'
            f"{escape(t['accept'])}</button></form>"
            f'<form method="post" action="{base}/decline"><button class="decline" type="submit">'
            f"{escape(t['decline'])}</button></form>")
    return _layout(ctx.language, t["title"], body)


def invitation_message(ctx: PageContext, state: str) -> str:
    """accepted, declined, expired, not_found, conflict or not_registered."""
    t = _invitation_texts(ctx)
    title = t[f"{state}_title"]
    text = t[state].format(inviter=ctx.inviter_name, account=_account_label(ctx.account_name, ctx.account_id))
    return _layout(ctx.language, title, f"<h1>{escape(title)}</h1><p>{escape(text)}</p>")


# --- a notice mail's preferences link ----------------------------------------------------------
def _preference_texts(page: PreferencePage) -> dict:
    return preference_texts.TEXTS.get(page.language, preference_texts.TEXTS["en"])


def _type_label(page: PreferencePage, notice_type: str) -> str:
    labels = preference_texts.TYPE_LABELS
    return labels.get(page.language, labels["en"]).get(notice_type, notice_type)


def preference_choices(page: PreferencePage, token: str) -> str:
    """The form: `account` (hidden, one per account shown) and `notify` = `<account_id>:<type>`."""
    t = _preference_texts(page)
    action = escape(token)  # relative: /preferences/<token>, under an API Gateway stage prefix too
    parts = [f"<h1>{escape(t['title'])}</h1>"]
    if page.person_name:
        parts.append(f"<p>{escape(t['greeting'].format(name=page.person_name))}</p>")
    if page.notice_type:
        parts.append(f"<p>{escape(t['from_notice'].format(type=_type_label(page, page.notice_type)))}</p>")
    if not page.accounts:
        parts.append(f"<p>{escape(t['no_accounts'])}</p>")
        return _layout(page.language, t["title"], "".join(parts))
    parts.append(f"<p>{escape(t['intro'])}</p>")
    fieldsets = []
    for account in page.accounts:
        forced = account.forced
        rows = []
        for notice_type in NOTIFICATIONS:
            value = escape(f"{account.account_id}:{notice_type}")
            checked = " checked" if notice_type in account.notifications else ""
            note = "; ".join(t["designated"][slot] for slot in forced.get(notice_type, []))
            note = f" <small>({escape(note)})</small>" if note else ""
            rows.append(f'<label><input type="checkbox" name="notify" value="{value}"{checked}> '
                        f"{escape(_type_label(page, notice_type))}</label>{note}<br>")
        fieldsets.append(f"<fieldset><legend>{escape(_account_label(account.account_name, account.account_id))}"
                         f'</legend><input type="hidden" name="account" value="{escape(account.account_id)}">'
                         f"{''.join(rows)}</fieldset>")
    parts.append(f'<form method="post" action="{action}">{"".join(fieldsets)}'
                 f'<p><button class="accept" type="submit">{escape(t["save"])}</button></p></form>')
    parts.append(f"<h2>{escape(t['unsubscribe_title'])}</h2>")
    ordered = sorted(NOTIFICATIONS, key=lambda n: n != page.notice_type)  # the link's type first
    for notice_type in ordered:
        parts.append(f'<form method="post" action="{action}/unsubscribe">'
                     f'<input type="hidden" name="type" value="{escape(notice_type)}">'
                     f'<button class="decline" type="submit">'
                     f"{escape(t['unsubscribe'].format(type=_type_label(page, notice_type)))}</button></form>")
    return _layout(page.language, t["title"], "".join(parts))


def preference_message(page: PreferencePage, back: str | None = None) -> str:
    """saved, unsubscribed, invalid or not_found; `back` is a relative link to the choices."""
    t = _preference_texts(page)
    state = page.state
    title = t[f"{state}_title"]
    label = _type_label(page, page.notice_type) if page.notice_type else ""
    body = f"<h1>{escape(title)}</h1><p>{escape(t[state].format(type=label))}</p>"
    if state == "unsubscribed":
        for account in page.accounts:
            for slot in account.forced.get(page.notice_type or "", []):
                text = t["still"].format(slot=t["slots"][slot],
                                         account=_account_label(account.account_name, account.account_id), type=label)
                body += f"<p>{escape(text)}</p>"
    if back and state != "not_found":
        body += f'<p><a href="{escape(back)}">{escape(t["back"])}</a></p>'
    return _layout(page.language, title, body)
