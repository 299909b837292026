"""Reading the SAM template that `chalice package` writes, and the API's gateway responses.

Pure functions on plain dicts, no CDK import: the stack uses them to find what chalice
generated (functions, their roles and log groups, SQS event sources), and tests in the main
environment (which has no CDK) use them on the synthesised template.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

API_HANDLER = "APIHandler"  # chalice's logical id for the function behind the REST API
REST_API = "RestAPI"  # chalice's logical id for the AWS::Serverless::Api

Template = dict[str, Any]


@dataclass(frozen=True)
class SqsEventSource:
    function: str  # logical id of the AWS::Serverless::Function
    event: str  # key under the function's Events, e.g. "SendMailSqsEventSource"
    queue_name: str  # the queue the app subscribes to (`@app.on_sqs_message(queue=...)`)

    def override_path(self, prop: str) -> str:
        """Path for `CfnResource.add_property_override` on the function."""
        return event_property_path(self.event, prop)


def event_property_path(event: str, prop: str) -> str:
    return f"Events.{event}.Properties.{prop}"


def resources_of_type(template: Template, resource_type: str) -> dict[str, dict]:
    return {name: r for name, r in template.get("Resources", {}).items() if r.get("Type") == resource_type}


def functions(template: Template) -> dict[str, dict]:
    """Every function chalice generated, SAM (before the transform) or plain Lambda."""
    found = resources_of_type(template, "AWS::Serverless::Function")
    return found or resources_of_type(template, "AWS::Lambda::Function")


def role_of(function: dict) -> str | None:
    """Logical id of the role a function runs as (`Role: {"Fn::GetAtt": [id, "Arn"]}`)."""
    role = function.get("Properties", {}).get("Role")
    if isinstance(role, dict) and "Fn::GetAtt" in role:
        return role["Fn::GetAtt"][0]
    return None


def queue_name_of(queue: Any) -> str:
    """The queue name in chalice's `Queue` value: an ARN string or an `Fn::Sub` of one."""
    if isinstance(queue, dict) and "Fn::Sub" in queue:
        queue = queue["Fn::Sub"]
        if isinstance(queue, list):
            queue = queue[0]
    if not isinstance(queue, str) or ":" not in queue:
        raise ValueError(f"Cannot tell which queue this event source reads: {queue!r}")
    return queue.rsplit(":", 1)[1]


def sqs_event_sources_raw(template: Template) -> list[tuple[str, str, dict]]:
    """(function, event, event properties) of every SQS event source of every function."""
    return [(name, event, spec["Properties"])
            for name, function in sorted(functions(template).items())
            for event, spec in sorted((function.get("Properties", {}).get("Events") or {}).items())
            if spec.get("Type") == "SQS"]


def sqs_event_sources(template: Template) -> list[SqsEventSource]:
    """Every SQS event source of every function, as chalice wrote it."""
    return [SqsEventSource(name, event, queue_name_of(props["Queue"]))
            for name, event, props in sqs_event_sources_raw(template)]


def function_id(name: str) -> str:
    """Logical id of the function a declaration of chalicelib/resources.py names: its chalice
    name (`send_mail` → `SendMail`), or `API_FUNCTION` for the API handler (`APIHandler`)."""
    from chalice.utils import to_cfn_resource_name

    from chalicelib.resources import API_FUNCTION

    return API_HANDLER if name == API_FUNCTION else to_cfn_resource_name(name)


def service_name(app_name: str, function_id: str) -> str:
    """POWERTOOLS_SERVICE_NAME for a function: `roster-api`, `roster-send-mail`, ..."""
    if function_id == API_HANDLER:
        return f"{app_name}-api"
    return f"{app_name}-" + re.sub(r"(?<!^)(?=[A-Z])", "-", function_id).lower()


# --- API Gateway responses -------------------------------------------------------------------
# Requests that API Gateway rejects before the Lambda runs (unknown path, throttling, body too
# large, integration time-out, ...) get API Gateway's own `{"message": ...}` body by default.
# These make them look like the app's errors: {"error": {"code", "message", "details": []}}.
# `$context.error.messageString` is already a quoted JSON string, so it is used without quotes.
_GATEWAY_MESSAGE = "$context.error.messageString"

# response type -> (status code or None to keep API Gateway's, error code, message or None)
GATEWAY_RESPONSES: dict[str, tuple[str | None, str, str | None]] = {
    "DEFAULT_4XX": (None, "invalid_request", None),
    "DEFAULT_5XX": (None, "internal_error", None),
    # API Gateway answers 403 "Missing Authentication Token" for a path or method it does not
    # know: for a client that is a 404, as `chalice local` and the Lambda itself would say.
    "MISSING_AUTHENTICATION_TOKEN": ("404", "not_found", "No such resource."),
    "ACCESS_DENIED": (None, "forbidden", None),
    "UNAUTHORIZED": (None, "unauthenticated", None),
    "REQUEST_TOO_LARGE": (None, "payload_too_large", None),
    "UNSUPPORTED_MEDIA_TYPE": (None, "unsupported_media_type", None),
    "THROTTLED": (None, "throttled", None),
    "QUOTA_EXCEEDED": (None, "throttled", None),
    "INTEGRATION_TIMEOUT": (None, "timeout", None),
}


def gateway_response_body(code: str, message: str | None) -> str:
    quoted = json.dumps(message) if message is not None else _GATEWAY_MESSAGE
    return '{"error": {"code": %s, "message": %s, "details": []}}' % (json.dumps(code), quoted)


def gateway_responses() -> dict[str, dict]:
    """The `x-amazon-apigateway-gateway-responses` extension of the API's OpenAPI definition."""
    responses = {}
    for response_type, (status, code, message) in GATEWAY_RESPONSES.items():
        response: dict[str, Any] = {
            "responseParameters": {"gatewayresponse.header.Content-Type": "'application/json'"},
            "responseTemplates": {"application/json": gateway_response_body(code, message)},
        }
        if status:
            response["statusCode"] = status
        responses[response_type] = response
    return responses
