"""Checks an answer of the app against its OpenAPI document: the status is documented for the
operation, the Content-Type is one the status documents, and a JSON body matches its schema.

The functional suite runs every answer it gets through this (tests/functional/conftest.py), so
each state the tests reach (published notices, bounced mails, answered invitations…) checks the
document too; schemathesis (tests/e2e/test_openapi_fuzz.py) adds the inputs nobody wrote.
"""
from __future__ import annotations

import functools
import json
import re


class Conformance:
    def __init__(self, document: dict):
        from jsonschema import Draft202012Validator

        self._document = document
        self._validator = Draft202012Validator
        self._routes = [(re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(path)) + "$"), path)
                        for path in document["paths"]]

    def operation(self, method: str, path: str) -> tuple[str, dict] | None:
        """(template, operation) for a concrete path, or None where the document has no such route."""
        path = path.split("?", 1)[0]
        for pattern, template in self._routes:
            if pattern.match(path):
                operation = self._document["paths"][template].get(method.lower())
                return (template, operation) if operation else None
        return None

    def problems(self, method: str, path: str, status: int, headers: dict, body: bytes | str | None) -> list[str]:
        """What in the answer the document does not describe (empty: it conforms)."""
        found = self.operation(method, path)
        if found is None or status >= 500:
            return []  # unknown routes and methods are chalice's (404/405); a 5xx fails its own test
        template, operation = found
        where = f"{method} {template} → {status}"
        answer = operation["responses"].get(str(status))
        if answer is None:
            return [f"{where}: status not documented (documented: {sorted(operation['responses'])})"]
        content = answer.get("content")
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
        if not content:
            return [] if not text else [f"{where}: documented without a body, answered {text[:200]!r}"]
        media = {k.lower(): v for k, v in headers.items()}.get("content-type", "").split(";")[0].strip().lower()
        if media not in content:
            return [f"{where}: Content-Type {media!r} not documented ({sorted(content)})"]
        if media != "application/json" or method.upper() == "HEAD":
            return []
        try:
            data = json.loads(text)
        except ValueError:
            return [f"{where}: body is not JSON: {text[:200]!r}"]
        validator = self._schema_validator(json.dumps(content[media]["schema"], sort_keys=True))
        return [f"{where}: {'/'.join(map(str, error.absolute_path)) or 'body'}: {error.message[:300]}"
                for error in validator.iter_errors(data)]

    @functools.lru_cache(maxsize=None)
    def _schema_validator(self, schema_text: str):
        # refs point into the document's components: validate within a root that carries them
        root = {"components": self._document["components"], "allOf": [json.loads(schema_text)]}
        return self._validator(root, format_checker=self._validator.FORMAT_CHECKER)


@functools.lru_cache(maxsize=1)
def conformance() -> Conformance:
    import app as app_module
    from chalicelib.handlers.openapi_document import build

    return Conformance(build(app_module.app))
