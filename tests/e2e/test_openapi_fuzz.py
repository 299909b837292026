"""Schemathesis against the running local stack, driven by the document the stack serves at
GET /openapi.json: generated requests for every operation (valid and invalid ones), then
sequences that follow the document's links (POST /accounts → account_id → the account's routes).

Every answer must be no 5xx and exactly what the document says: a documented status, a documented
Content-Type, a body that matches its schema. The number of examples is bounded so that the
whole run stays within a few minutes on two cores (docs/api.md, "The OpenAPI document").
"""
from __future__ import annotations

import hypothesis
import pytest
import requests

pytestmark = pytest.mark.e2e
TIMEOUT = 10
EXAMPLES = 12  # per operation and per generation mode (valid, invalid)
STATEFUL_EXAMPLES = 12
STATEFUL_STEPS = 8


def checks():
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance, ensure_resource_availability, response_headers_conformance,
        response_schema_conformance, status_code_conformance,
    )

    return [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
            response_schema_conformance, ensure_resource_availability]


def settings(examples: int, **more) -> hypothesis.settings:
    # derandomize: the same examples on every run, so CI does not turn red by chance
    return hypothesis.settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                               suppress_health_check=list(hypothesis.HealthCheck), print_blob=False, **more)


class Credentials:
    """A tenant (POST /tenants with the platform key, as the README's flow), its API key, and a
    person token (the dev console) for a customer of one of its accounts."""

    def __init__(self, stack):
        reply = requests.post(f"{stack.api_url}/tenants", json={"name": "Fuzz AG"}, timeout=TIMEOUT,
                              headers={"Authorization": f"Bearer {stack.platform_key}"})
        assert reply.status_code == 201, reply.text
        self.platform_key, self.api_key = stack.platform_key, reply.json()["api_key"]
        tenant_id = reply.json()["tenant"]["tenant_id"]
        headers = {"Authorization": f"Bearer {self.api_key}"}
        account = requests.post(f"{stack.api_url}/accounts", json={"name": "Kunde AG"}, headers=headers,
                                timeout=TIMEOUT).json()["account_id"]
        added = requests.post(f"{stack.api_url}/accounts/{account}/contacts", headers=headers, timeout=TIMEOUT,
                              json={"email": "chefin@kunde.example", "kind": "customer"})
        assert added.status_code == 201, added.text
        issued = requests.post(f"{stack.console_url}/token", json={"tenant_id": tenant_id,
                                                                   "email": "chefin@kunde.example"}, timeout=TIMEOUT)
        assert issued.status_code == 200, issued.text
        self.person_token = issued.json()["token"]

    def headers(self, operation) -> dict[str, str]:
        """The credential each operation's security names first (none for public ones)."""
        security = operation.definition.raw.get("security")
        scheme = next(iter(security[0]), None) if security else None
        token = {"apiKey": self.api_key, "platformKey": self.platform_key, "personToken": self.person_token}.get(scheme)
        return {"Authorization": f"Bearer {token}"} if token else {}


@pytest.fixture(scope="module")
def fuzz(local_stack):
    import schemathesis

    schema = schemathesis.openapi.from_url(f"{local_stack.api_url}/openapi.json")
    schema.config.update(base_url=local_stack.api_url)
    return schema, Credentials(local_stack)


def _operations():
    """The app's operations, known without the stack: one test each."""
    import app as app_module

    return sorted((path, method) for path, methods in app_module.app.routes.items() for method in methods)


@pytest.mark.parametrize("path,method", _operations(), ids=[f"{m} {p}" for p, m in _operations()])
def test_every_operation_answers_generated_requests_as_documented(fuzz, local_stack, path, method):
    from schemathesis import GenerationMode

    schema, credentials = fuzz
    operation = schema[path][method]
    headers = credentials.headers(operation)
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        @settings(EXAMPLES)
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        def run(case):
            case.call_and_validate(headers=headers, checks=checks(), timeout=TIMEOUT)

        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            pass  # every invalid variant of a parameterless GET is one the document allows


def test_linked_sequences_answer_as_documented(fuzz):
    schema, credentials = fuzz
    base = schema.as_state_machine()

    class Workflow(base):
        def get_call_kwargs(self, case):
            return {**super().get_call_kwargs(case), "headers": credentials.headers(case.operation), "timeout": TIMEOUT}

        def validate_response(self, response, case, additional_checks=(), **kwargs):
            case.validate_response(response, checks=checks(), headers=credentials.headers(case.operation))

    Workflow.run(settings=settings(STATEFUL_EXAMPLES, stateful_step_count=STATEFUL_STEPS))
