"""SES template rendering: the Handlebars subset SES templates use."""
from __future__ import annotations

import pytest

from infra.local_stack.ses_templates import RenderingFailure, render


def test_variables_and_dotted_paths_are_substituted():
    assert render("Hi {{ name }}, {{account.name}} has {{count}} people ({{active}})",
                  {"name": "Ada", "account": {"name": "ACME"}, "count": 3, "active": True}) == \
        "Hi Ada, ACME has 3 people (true)"


def test_html_escaping_applies_to_double_braces_in_the_html_part_only():
    data = {"name": "<b>Tom & Jerry</b>"}

    assert render("<p>{{name}}</p>", data, escape_html=True) == "<p>&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</p>"
    assert render("<p>{{{name}}}</p>", data, escape_html=True) == "<p><b>Tom & Jerry</b></p>"
    assert render("{{name}}", data) == "<b>Tom & Jerry</b>"


def test_if_else_and_each_blocks():
    template = "{{#if admin}}Admin{{else}}Member{{/if}}:{{#each roles}} {{this}}{{/each}};{{#each people}}[{{name}} of {{team}}]{{/each}}"

    assert render(template, {"admin": False, "roles": ["a", "b"], "team": "T", "people": [{"name": "x"}, {"name": "y"}]}) == \
        "Member: a b;[x of T][y of T]"


@pytest.mark.parametrize(("template", "data"), [
    ("Hi {{name}}", {}), ("Hi {{name}}", {"name": None}), ("{{a.b}}", {"a": {}}),
    ("{{#if x}}open", {"x": True}), ("{{/if}}", {}), ("{{#with x}}{{/with}}", {}),
])
def test_missing_variables_and_broken_blocks_are_rendering_failures(template, data):
    with pytest.raises(RenderingFailure):
        render(template, data)
