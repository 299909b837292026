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
EXAMPLES = 25  # per operation and per generation mode (valid, invalid)
STATEFUL_EXAMPLES = 25
STATEFUL_STEPS = 10


def checks():
    """No 5xx; status, Content-Type, headers and body as documented; what a 201 created can be
    read; and what violates the document is refused (the schemas say what the routes check)."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance, ensure_resource_availability, negative_data_rejection,
        response_headers_conformance, response_schema_conformance, status_code_conformance,
    )

    return [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
            response_schema_conformance, ensure_resource_availability, negative_data_rejection]


def settings(examples: int, **more) -> hypothesis.settings:
    # derandomize: the same examples on every run, so CI does not turn red by chance
    return hypothesis.settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                               suppress_health_check=list(hypothesis.HealthCheck), print_blob=False, **more)


class Credentials:
    """A tenant (POST /tenants with the platform key, as the README's flow), its API key, a person
    token (the dev console) for the customer of one of its accounts, and one real object of each
    kind that a path names, so that valid requests reach the services and not only their 404."""

    def __init__(self, stack):
        self.api_url = stack.api_url
        reply = requests.post(f"{stack.api_url}/tenants", json={"name": "Fuzz AG"}, timeout=TIMEOUT,
                              headers={"Authorization": f"Bearer {stack.platform_key}"})
        assert reply.status_code == 201, reply.text
        self.platform_key, self.api_key = stack.platform_key, reply.json()["api_key"]
        tenant_id = reply.json()["tenant"]["tenant_id"]
        account = self._post("/accounts", {"name": "Kunde AG"})["account_id"]
        person = self._post(f"/accounts/{account}/contacts", {"email": "chefin@kunde.example", "kind": "customer"})
        invitation = self._post(f"/accounts/{account}/invitations", {"email": "neu@kunde.example"})
        notice = self._post("/notices", {"type": "general", "title": {"en": "Fuzz"}, "body": {"en": "Text"},
                                         "affected": {"all": True}})
        self.ids = {"account_id": account, "person_id": person["person_id"],
                    "invitation_id": invitation["invitation_id"], "job_id": invitation["mail_job_id"],
                    "key_id": self._post("/api-keys", {"name": "spare"})["api_key"]["key_id"],
                    "notice_id": notice["notice_id"]}
        issued = requests.post(f"{stack.console_url}/token", json={"tenant_id": tenant_id,
                                                                   "email": "chefin@kunde.example"}, timeout=TIMEOUT)
        assert issued.status_code == 200, issued.text
        self.person_token = issued.json()["token"]

    def _post(self, path: str, body: dict) -> dict:
        reply = requests.post(f"{self.api_url}{path}", json=body, timeout=TIMEOUT,
                              headers={"Authorization": f"Bearer {self.api_key}"})
        assert reply.status_code == 201, reply.text
        return reply.json()

    def headers(self, operation) -> dict[str, str]:
        """The credential each operation's security names first (none for public ones)."""
        security = operation.definition.raw.get("security")
        scheme = next(iter(security[0]), None) if security else None
        token = {"apiKey": self.api_key, "platformKey": self.platform_key, "personToken": self.person_token}.get(scheme)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def path_parameters(self, path: str) -> dict[str, str] | None:
        """The real objects for the path's ids; None where a path names something else (a token)."""
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        return {name: self.ids[name] for name in names} if names and all(n in self.ids for n in names) else None


@pytest.fixture(scope="module")
def fuzz(local_stack):
    import schemathesis

    # Invalid data is refused with a 4xx; besides schemathesis' default statuses, some refusals come
    # before the body is read: over the size limit (413), not JSON (415), a mail-causing request over
    # the tenant's per-minute limit (429). All are documented per operation.
    refusals = ["400", "401", "403", "404", "406", "413", "415", "422", "428", "429", "5xx"]
    config = schemathesis.Config.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": refusals}}})
    schema = schemathesis.openapi.from_url(f"{local_stack.api_url}/openapi.json", config=config)
    schema.config.update(base_url=local_stack.api_url)
    return schema, Credentials(local_stack)


def _operations():
    """The app's operations, known without the stack: one test each; the deletes last, so that the
    real objects are there for the others."""
    import app as app_module

    return sorted(((path, method) for path, methods in app_module.app.routes.items() for method in methods),
                  key=lambda operation: (operation[1] == "DELETE", operation))


@pytest.mark.parametrize("path,method", _operations(), ids=[f"{m} {p}" for p, m in _operations()])
def test_every_operation_answers_generated_requests_as_documented(fuzz, path, method):
    from schemathesis import GenerationMode

    schema, credentials = fuzz
    operation = schema[path][method]
    headers = credentials.headers(operation)
    # valid requests on the real objects; invalid ones anywhere (an id of the wrong shape is a 404)
    strategies = [operation.as_strategy(GenerationMode.POSITIVE, path_parameters=credentials.path_parameters(path)),
                  operation.as_strategy(GenerationMode.NEGATIVE)]
    for strategy in strategies:
        @settings(EXAMPLES)
        @hypothesis.given(case=strategy)
        def run(case):
            case.call_and_validate(headers=headers, checks=checks(), timeout=TIMEOUT)

        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            if headers:  # a credential can always be left out; only a public route may have no invalid request
                raise


def test_linked_sequences_answer_as_documented(fuzz):
    schema, credentials = fuzz
    base = schema.as_state_machine()

    class Workflow(base):
        def get_call_kwargs(self, case):
            return {**super().get_call_kwargs(case), "headers": credentials.headers(case.operation),
                    "timeout": TIMEOUT}

        def validate_response(self, response, case, additional_checks=(), **kwargs):
            case.validate_response(response, checks=checks(), headers=credentials.headers(case.operation))

    Workflow.run(settings=settings(STATEFUL_EXAMPLES, stateful_step_count=STATEFUL_STEPS))
