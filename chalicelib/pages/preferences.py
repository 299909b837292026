"""The pages behind a notice mail's preferences link: the choices (a checkbox per account × type,
Save; a one-click unsubscribe per type), the confirmations, the 404. Same layout, escaping and
rules as the invitation pages: no script, no external asset."""
from __future__ import annotations

from html import escape

from chalicelib.domain.vocabulary import NOTIFICATIONS
from chalicelib.pages.invitation import _layout
from chalicelib.pages.preference_texts import TEXTS, TYPE_LABELS
from chalicelib.services.preferences import AccountChoices, PreferencePage


def _t(page: PreferencePage) -> dict:
    return TEXTS.get(page.language, TEXTS["en"])


def _label(page: PreferencePage, notice_type: str) -> str:
    return TYPE_LABELS.get(page.language, TYPE_LABELS["en"]).get(notice_type, notice_type)


def _account_name(account: AccountChoices) -> str:
    return f"{account.account_name} ({account.account_id})" if account.account_name else account.account_id


def choices(page: PreferencePage, token: str) -> str:
    """The form: `account` (hidden, one per account shown) and `notify` = `<account_id>:<type>`."""
    t = _t(page)
    action = escape(token)  # relative: /preferences/<token>, under an API Gateway stage prefix too
    parts = [f"<h1>{escape(t['title'])}</h1>"]
    if page.person_name:
        parts.append(f"<p>{escape(t['greeting'].format(name=page.person_name))}</p>")
    if page.notice_type:
        parts.append(f"<p>{escape(t['from_notice'].format(type=_label(page, page.notice_type)))}</p>")
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
                        f"{escape(_label(page, notice_type))}</label>{note}<br>")
        fieldsets.append(f"<fieldset><legend>{escape(_account_name(account))}</legend>"
                         f'<input type="hidden" name="account" value="{escape(account.account_id)}">'
                         f"{''.join(rows)}</fieldset>")
    parts.append(f'<form method="post" action="{action}">{"".join(fieldsets)}'
                 f'<p><button class="accept" type="submit">{escape(t["save"])}</button></p></form>')
    parts.append(f"<h2>{escape(t['unsubscribe_title'])}</h2>")
    ordered = sorted(NOTIFICATIONS, key=lambda n: n != page.notice_type)  # the link's type first
    for notice_type in ordered:
        parts.append(f'<form method="post" action="{action}/unsubscribe">'
                     f'<input type="hidden" name="type" value="{escape(notice_type)}">'
                     f'<button class="decline" type="submit">'
                     f"{escape(t['unsubscribe'].format(type=_label(page, notice_type)))}</button></form>")
    return _layout(page.language, t["title"], "".join(parts))


def message(page: PreferencePage, back: str | None = None) -> str:
    """saved, unsubscribed, invalid or not_found; `back` is a relative link to the choices."""
    t = _t(page)
    state = page.state
    title = t[f"{state}_title"]
    label = _label(page, page.notice_type) if page.notice_type else ""
    body = f"<h1>{escape(title)}</h1><p>{escape(t[state].format(type=label))}</p>"
    if state == "unsubscribed":
        for account in page.accounts:
            for slot in account.forced.get(page.notice_type or "", []):
                text = t["still"].format(slot=t["slots"][slot], account=_account_name(account), type=label)
                body += f"<p>{escape(text)}</p>"
    if back and state != "not_found":
        body += f'<p><a href="{escape(back)}">{escape(t["back"])}</a></p>'
    return _layout(page.language, title, body)
