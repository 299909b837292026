"""The OpenAPI 3.1 document of the API, generated from the routes' own contracts.

Each `route()` keeps the schemas it validates with and the answers it gives (`Contract`,
handlers/http.py); each public page keeps its `PageContract` (handlers/invitations.py). This walks
the app's route table and describes every route with them, so the document cannot drift from
what the app checks. Built on the first GET /openapi.json only (handlers/openapi.py); `make
openapi` writes docs/openapi.json with it (`python -m chalicelib.handlers.openapi_document`).
"""
from __future__ import annotations

import json
import re
from typing import Any

from chalicelib.handlers import responses as shapes
from chalicelib.handlers.http import ID_SHAPE
from chalicelib.handlers.schema import Object

TITLE = "Roster API"
VERSION = "0.1.0"
DESCRIPTION = ("Accounts, people, invitations and notices of a provider's business customers. "
               "docs/api.md explains the rules; this document is generated from the routes.")
JSON = "application/json"
HTML = "text/html"

SECURITY_SCHEMES = {
    "apiKey": {"type": "http", "scheme": "bearer", "bearerFormat": "rk_<16 chars>_<64 hex>",
               "description": "A tenant API key (POST /tenants shows the first one, POST /api-keys more)."},
    "platformKey": {"type": "http", "scheme": "bearer",
                    "description": "The deployment operator's platform key (POST /tenants only)."},
    "personToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "An OIDC ID token (RS256) of the configured issuer: a person of a customer "
                                   "(docs/permissions.md)."},
}
ERRORS = {
    400: "The body, query or a header is invalid; `details` name each field and its problem.",
    401: "No credential, or a malformed, unknown, revoked or expired one.",
    403: "A credential of the wrong kind for the route, or a person without the right to it.",
    404: "Not found (or another tenant's, or an account the person is no active member of).",
    409: "A stale version, or a uniqueness or state conflict.",
    413: "The body is larger than the limit (64 KiB by default).",
    415: "The body is not application/json.",
    422: "A business rule refuses the change; `details` say what is missing.",
    429: "A mail limit (docs/api.md, Limits); the Retry-After header says when to try again.",
    503: "The identity provider's keys (JWKS) could not be fetched.",
}
SUCCESS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No content"}
PAGE_STATUSES = {200: "The page", 400: "The request says nothing usable (a page)",
                 404: "Unknown, tampered or closed link (one page for all)", 409: "The account refuses it now",
                 410: "The link has expired"}
POLICIES = {"member": "Person tokens: any active member of the account.",
            "manage": "Person tokens: the account's customer or an admin."}


def build(app) -> dict:
    """The document for a Chalice app whose routes were declared with `route()` or `page_route()`."""
    paths: dict[str, dict] = {}
    for path in sorted(app.routes):
        for method, entry in sorted(app.routes[path].items()):
            view = entry.view_function
            if hasattr(view, "contract"):
                operation = _operation(path, method, view)
            elif hasattr(view, "page"):
                operation = _page_operation(path, method, view)
            else:
                raise ValueError(f"{method} {path} has no contract: declare it with route() or page_route()")
            paths.setdefault(path, {})[method.lower()] = operation
    _link(paths)
    components = _components()
    document = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": SECURITY_SCHEMES},
    }
    _check_operation_ids(paths)
    return _use_refs(document, components)


# --- operations ----------------------------------------------------------------------------------

def _operation(path: str, method: str, view) -> dict:
    contract = view.contract
    operation: dict[str, Any] = {"operationId": view.__name__, "tags": [_tag(view)]}
    summary = _summary(view)
    if summary:
        operation["summary"] = summary
    if contract.people:
        operation["description"] = POLICIES[contract.people]
        operation["x-person-policy"] = contract.people
    operation["security"] = _security(contract.auth, contract.people)
    parameters = _path_parameters(path)
    if contract.query is not None:
        parameters += contract.query.parameters()
    if contract.if_match:
        parameters.append({"name": "If-Match", "in": "header", "required": False,
                           "description": "The version the change applies to (or `version` in the body); "
                                          "a stale one answers 409.",
                           "schema": {"type": "string", "pattern": r'^\s*(W/)?"?\d{1,15}"?\s*$'}})
    if parameters:
        operation["parameters"] = parameters
    if contract.body is not None:
        operation["requestBody"] = {"required": bool(contract.body.required or contract.body.non_empty),
                                    "content": {JSON: {"schema": contract.body.json_schema()}}}
    answers: dict[str, Any] = {}
    for status, shape in sorted(contract.responses.items()):
        answers[str(status)] = {"description": SUCCESS[status]}
        if shape is not None:
            answers[str(status)]["content"] = {JSON: {"schema": shape.json_schema()}}
    for status in sorted(_error_statuses(path, contract)):
        answers[str(status)] = {"description": ERRORS[status],
                                "content": {JSON: {"schema": shapes.ERROR.json_schema()}}}
        if status == 429:
            answers["429"]["headers"] = {"Retry-After": {
                "description": "Seconds until the limit allows the request.", "required": True,
                "schema": {"type": "integer", "minimum": 1}}}
    operation["responses"] = answers
    return operation


def _error_statuses(path: str, contract) -> set[int]:
    """What the route's declarations imply (authentication, ids in the path, a body, a query, a
    version), and the statuses its service answers (`errors`)."""
    statuses = set(contract.errors)
    if contract.auth != "public":
        statuses |= {401, 403}
    if contract.auth == "person" or contract.people:
        statuses.add(503)
    if any(name.endswith("_id") for name in _path_names(path)):
        statuses.add(404)
    if contract.body is not None:
        statuses |= {400, 413, 415}
    if contract.query is not None:
        statuses.add(400)
    if contract.if_match:
        statuses |= {400, 409}
    if contract.sends_mail:
        statuses.add(429)
    return statuses


def _page_operation(path: str, method: str, view) -> dict:
    page = view.page
    operation: dict[str, Any] = {
        "operationId": view.__name__ + ("_head" if method == "HEAD" else ""), "tags": [_tag(view)],
        "security": [], "parameters": _path_parameters(path),
    }
    summary = _summary(view)
    if summary:
        operation["summary"] = summary
    if page.form:
        operation["requestBody"] = {"required": False, "content": {
            media: {"schema": kind.json_schema()} for media, kind in page.form.items()}}
    answers = {}
    for status in page.statuses:
        content: dict[str, Any] = {HTML: {"schema": {"type": "string"}}}
        if page.json is not None:
            content[JSON] = {"schema": page.json.json_schema()}
        answers[str(status)] = {"description": PAGE_STATUSES[status], "content": content}
    operation["responses"] = answers
    return operation


def _path_names(path: str) -> list[str]:
    return re.findall(r"\{([a-z_]+)\}", path)


def _path_parameters(path: str) -> list[dict]:
    parameters = []
    for name in _path_names(path):
        schema = {"type": "string", "pattern": f"^{ID_SHAPE.pattern}$"} if name.endswith("_id") else {"type": "string"}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return parameters


def _security(auth: str, people) -> list[dict]:
    if auth == "public":
        return []
    if auth == "platform":
        return [{"platformKey": []}]
    if auth == "person":
        return [{"personToken": []}]
    return [{"apiKey": []}, {"personToken": []}] if people else [{"apiKey": []}]


def _tag(view) -> str:
    return view.__module__.rsplit(".", 1)[-1].replace("_", "-")


def _summary(view) -> str | None:
    doc = (view.__doc__ or "").strip()
    return doc.split("\n\n")[0].replace("\n", " ") if doc else None


def _check_operation_ids(paths: dict) -> None:
    seen: dict[str, str] = {}
    for path, operations in paths.items():
        for method, operation in operations.items():
            other = seen.setdefault(operation["operationId"], f"{method.upper()} {path}")
            if other != f"{method.upper()} {path}":
                raise ValueError(f"operationId {operation['operationId']} of {method.upper()} {path} is {other}'s")


# --- links: what a creation answers → the operations on what it created -------------------------

def _link(paths: dict) -> None:
    """An OpenAPI link from each 201 answer to every operation whose path parameters it names
    (at the top or one level down: `api_key.key_id`), the rest taken from the request's path."""
    targets = [(path, method, operation)
               for path, operations in paths.items() for method, operation in operations.items()]
    for source_path, operations in paths.items():
        for method, operation in operations.items():
            created = operation["responses"].get("201", {}).get("content", {}).get(JSON)
            if not created:
                continue
            found = _ids_in(created["schema"])
            known = set(_path_names(source_path))
            links = {}
            for path, target_method, target in targets:
                names = _path_names(path)
                if (path, target_method) == (source_path, method) or not any(name in found for name in names):
                    continue
                if not all(name in found or name in known for name in names):
                    continue
                links[target["operationId"]] = {
                    "operationId": target["operationId"],
                    "parameters": {name: found[name] if name in found else f"$request.path.{name}" for name in names},
                }
            if links:
                operation["responses"]["201"]["links"] = dict(sorted(links.items()))


def _ids_in(schema: dict) -> dict[str, str]:
    """{parameter name: runtime expression} of the `…_id` properties of an answer."""
    found = {}
    for name, value in schema.get("properties", {}).items():
        if name.endswith("_id") and value.get("type") == "string":
            found[name] = f"$response.body#/{name}"
        for inner, inner_value in value.get("properties", {}).items():
            if inner.endswith("_id") and inner_value.get("type") == "string":
                found.setdefault(inner, f"$response.body#/{name}/{inner}")
    return found


# --- named schemas ------------------------------------------------------------------------------

def _components() -> dict[str, dict]:
    """The named answers of handlers/responses.py (TENANT → Tenant, NEW_API_KEY → NewApiKey)."""
    return {"".join(part.capitalize() for part in name.split("_")): kind.json_schema()
            for name, kind in sorted(vars(shapes).items())
            if name.isupper() and isinstance(kind, Object)}


def _use_refs(document: dict, components: dict[str, dict]) -> dict:
    """Every inline copy of a named schema becomes a $ref to it (components use each other too)."""
    names = {_key(schema): name for name, schema in components.items()}

    def walk(value: Any, top: bool = False) -> Any:
        if isinstance(value, dict):
            if not top and _key(value) in names:
                return {"$ref": f"#/components/schemas/{names[_key(value)]}"}
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    document["paths"] = walk(document["paths"])
    document["components"]["schemas"] = {name: walk(schema, top=True) for name, schema in components.items()}
    return document


def _key(schema: dict) -> str:
    return json.dumps(schema, sort_keys=True)


def render(app) -> str:
    """The document as docs/openapi.json keeps it."""
    return json.dumps(build(app), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> None:
    import app as app_module

    text = render(app_module.app)
    if len(argv) > 1:
        with open(argv[1], "w", encoding="utf-8") as out:
            out.write(text)
    else:
        print(text, end="")


if __name__ == "__main__":
    import sys

    main(sys.argv)

