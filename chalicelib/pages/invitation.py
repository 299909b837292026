"""The pages behind an invitation link: the offer (Accept / Decline forms), the outcome, expired,
not found. Proper HTML5, localised, escaped; no script and no external asset."""
from __future__ import annotations

from html import escape

from chalicelib.domain.invitations import PageContext
from chalicelib.pages.texts import PERMISSION_LABELS, TEXTS

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


def _t(ctx: PageContext) -> dict:
    return TEXTS.get(ctx.language, TEXTS["en"])


def _account(ctx: PageContext) -> str:
    return f"{ctx.account_name} ({ctx.account_id})" if ctx.account_name else ctx.account_id


def offer(ctx: PageContext, token: str) -> str:
    t = _t(ctx)
    names = PERMISSION_LABELS.get(ctx.language, PERMISSION_LABELS["en"])
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


def message(ctx: PageContext, state: str) -> str:
    """accepted, declined, expired, not_found, conflict or not_registered."""
    t = _t(ctx)
    title = t[f"{state}_title"]
    text = t[state].format(inviter=ctx.inviter_name, account=_account(ctx))
    return _layout(ctx.language, title, f"<h1>{escape(title)}</h1><p>{escape(text)}</p>")
