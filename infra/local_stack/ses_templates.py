"""Renders SES (v1) templates the way SES does: a Handlebars subset.

`{{var}}`, dotted paths `{{a.b}}`, `{{{raw}}}`, `{{#if x}}…{{else}}…{{/if}}` and
`{{#each xs}}…{{this}}…{{/each}}`. In the HTML part `{{var}}` is HTML-escaped (Handlebars'
default) and `{{{var}}}` is not. A variable missing from the data is a rendering failure: SES
accepts the send call but never delivers such a mail.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

_TAG = re.compile(r"(\{\{\{.*?\}\}\}|\{\{.*?\}\})", re.DOTALL)
_MISSING = object()


class RenderingFailure(ValueError):
    pass


@dataclass
class _Block:
    kind: str  # "root", "if", "each"
    path: str = ""
    body: list[Any] = field(default_factory=list)
    otherwise: list[Any] = field(default_factory=list)
    in_else: bool = False

    def add(self, node: Any) -> None:
        (self.otherwise if self.in_else else self.body).append(node)


@dataclass(frozen=True)
class _Variable:
    path: str
    raw: bool


def render(template: str, data: dict[str, Any], escape_html: bool = False) -> str:
    """Renders `template` with `data`; raises RenderingFailure for missing variables or bad blocks."""
    return _render_nodes(_parse(template), [data], escape_html)


def _parse(template: str) -> list[Any]:
    stack = [_Block("root")]
    for token in _TAG.split(template):
        if not token:
            continue
        if token.startswith("{{{") and token.endswith("}}}"):
            stack[-1].add(_Variable(token[3:-3].strip(), raw=True))
        elif token.startswith("{{") and token.endswith("}}"):
            _parse_tag(token[2:-2].strip(), stack)
        else:
            stack[-1].add(token)
    if len(stack) != 1:
        raise RenderingFailure(f"unclosed {{{{#{stack[-1].kind}}}}} block")
    return stack[0].body


def _parse_tag(tag: str, stack: list[_Block]) -> None:
    if tag.startswith("!"):
        return
    if tag.startswith("#"):
        kind, _, path = tag[1:].partition(" ")
        if kind not in ("if", "each"):
            raise RenderingFailure(f"unsupported block helper {kind!r}")
        block = _Block(kind, path.strip())
        stack[-1].add(block)
        stack.append(block)
    elif tag.startswith("/"):
        if len(stack) == 1 or stack[-1].kind != tag[1:].strip():
            raise RenderingFailure(f"unexpected {{{{{tag}}}}}")
        stack.pop()
    elif tag == "else":
        if len(stack) == 1:
            raise RenderingFailure("{{else}} outside a block")
        stack[-1].in_else = True
    else:
        stack[-1].add(_Variable(tag, raw=False))


def _render_nodes(nodes: list[Any], contexts: list[Any], escape_html: bool) -> str:
    parts = []
    for node in nodes:
        if isinstance(node, str):
            parts.append(node)
        elif isinstance(node, _Variable):
            value = _lookup(node.path, contexts)
            if value is _MISSING or value is None:
                raise RenderingFailure(f"Attribute '{node.path}' is not present in the rendering data.")
            text = _as_text(value)
            parts.append(html.escape(text) if escape_html and not node.raw else text)
        elif node.kind == "if":
            value = _lookup(node.path, contexts)
            branch = node.body if _truthy(value) else node.otherwise
            parts.append(_render_nodes(branch, contexts, escape_html))
        else:
            items = _lookup(node.path, contexts)
            if _truthy(items) and isinstance(items, list):
                parts.extend(_render_nodes(node.body, contexts + [item], escape_html) for item in items)
            else:
                parts.append(_render_nodes(node.otherwise, contexts, escape_html))
    return "".join(parts)


def _lookup(path: str, contexts: list[Any]) -> Any:
    if path in ("this", "."):
        return contexts[-1]
    names = path.removeprefix("this.").split(".")
    for context in reversed(contexts):
        value = context
        for name in names:
            value = value.get(name, _MISSING) if isinstance(value, dict) else _MISSING
            if value is _MISSING:
                break
        if value is not _MISSING:
            return value
    return _MISSING


def _truthy(value: Any) -> bool:
    return value is not _MISSING and bool(value)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
