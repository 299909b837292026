"""Every SES template of chalicelib/mail/catalog renders in the dev console's outbox renderer
(the Handlebars subset SES supports) with the data the worker sends, and its links are found."""
import re

import pytest

from chalicelib.mail.catalog import BRANDING_DEFAULTS, ses_templates
from infra.local_stack.outbox import links_in
from infra.local_stack.ses_templates import render

_NAMES = re.compile(r"\{\{\{?\s*(?:#if\s+|#each\s+)?([A-Za-z_][\w.]*)\s*\}?\}\}")


def sample_data(*parts: str) -> dict:
    names = {name for part in parts for name in _NAMES.findall(part) if name not in ("else", "this")}
    data = {name: (f"https://example.test/{name}" if name.endswith("url") else f"<{name}>") for name in names}
    return {**data, **{k: v for k, v in BRANDING_DEFAULTS.items() if k not in data}}


@pytest.mark.parametrize("template", ses_templates(), ids=lambda t: t.name)
def test_renders_with_every_variable_and_links_are_found(template):
    data = sample_data(template.subject, template.text, template.html)

    subject, text = render(template.subject, data), render(template.text, data)
    html = render(template.html, data, escape_html=True)

    assert subject and text and html.startswith("<!DOCTYPE html>")
    assert "{{" not in subject + text + html and "%%BODY%%" not in html
    assert "&lt;brand_name&gt;" in html  # the layout's header, HTML-escaped like SES does
    links = links_in(text, html)
    for name, value in data.items():
        if name.endswith("url") and "{{%s}}" % name in template.text:
            assert value in links, name  # e.g. the portal link: in the text part, a link


def test_the_branded_layout_shows_the_logo_only_when_there_is_one():
    [template] = [t for t in ses_templates() if t.name == "roster-welcome-en"]
    data = sample_data(template.html)

    assert '<img src="https://example.test/brand_logo_url"' in render(template.html, data, escape_html=True)
    assert "<img" not in render(template.html, {**data, "brand_logo_url": ""}, escape_html=True)
