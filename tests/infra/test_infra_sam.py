"""Unit tests of infra/sam.py: reading chalice's SAM template, and the gateway responses."""
from __future__ import annotations

import pytest

from infra import sam
from tests.infra.infra_checks import render_gateway_template


def _function(events=None, role="FnRole"):
    props = {"Role": {"Fn::GetAtt": [role, "Arn"]}}
    if events is not None:
        props["Events"] = events
    return {"Type": "AWS::Serverless::Function", "Properties": props}


def _sqs(queue, batch_size=1):
    return {"Type": "SQS", "Properties": {"Queue": queue, "BatchSize": batch_size}}


TEMPLATE = {"Resources": {
    "APIHandler": _function(role="ApiHandlerRole"),
    "SendMail": _function({"SendMailSqsEventSource": _sqs(
        {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:roster-mail"})}),
    "Bounces": _function({"BouncesSqsEventSource": _sqs("arn:aws:sqs:eu-central-1:123456789012:roster-bounces"),
                          "BouncesEvent": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 hour)"}}}),
    "Sweep": _function({"SweepEvent": {"Type": "Schedule", "Properties": {"Schedule": "rate(5 minutes)"}}}),
    "ApiHandlerRole": {"Type": "AWS::IAM::Role", "Properties": {}},
}}


def test_sqs_event_sources_are_read_from_the_template():
    assert sam.sqs_event_sources(TEMPLATE) == [
        sam.SqsEventSource("Bounces", "BouncesSqsEventSource", "roster-bounces"),
        sam.SqsEventSource("SendMail", "SendMailSqsEventSource", "roster-mail"),
    ]


def test_override_path_points_into_the_functions_event():
    source = sam.SqsEventSource("SendMail", "SendMailSqsEventSource", "roster-mail")
    assert source.override_path("FunctionResponseTypes") == \
        "Events.SendMailSqsEventSource.Properties.FunctionResponseTypes"


def test_queue_name_of_accepts_arns_and_subs_only():
    assert sam.queue_name_of({"Fn::Sub": ["arn:aws:sqs:${AWS::Region}:1:q1", {}]}) == "q1"
    assert sam.queue_name_of("arn:aws:sqs:eu-central-1:1:q2") == "q2"
    with pytest.raises(ValueError):
        sam.queue_name_of({"Ref": "Queue"})


def test_functions_and_roles():
    assert sorted(sam.functions(TEMPLATE)) == ["APIHandler", "Bounces", "SendMail", "Sweep"]
    assert sam.role_of(TEMPLATE["Resources"]["APIHandler"]) == "ApiHandlerRole"
    assert sam.role_of({"Properties": {"Role": "arn:aws:iam::1:role/x"}}) is None


def test_service_names():
    assert sam.service_name("roster", "APIHandler") == "roster-api"
    assert sam.service_name("roster", "SendMail") == "roster-send-mail"


def test_gateway_responses_render_the_api_error_format():
    responses = sam.gateway_responses()
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "MISSING_AUTHENTICATION_TOKEN"} <= set(responses)
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["statusCode"] == "404"
    assert render_gateway_template(missing["responseTemplates"]["application/json"]) == {
        "error": {"code": "not_found", "message": "No such resource.", "details": []}}
    default = render_gateway_template(responses["DEFAULT_4XX"]["responseTemplates"]["application/json"],
                                      'Say "no"')
    assert default == {"error": {"code": "invalid_request", "message": 'Say "no"', "details": []}}
    for response in responses.values():
        assert response["responseParameters"]["gatewayresponse.header.Content-Type"] == "'application/json'"


def test_function_ids_of_declared_function_names():
    from chalicelib.resources import API_FUNCTION

    assert sam.function_id(API_FUNCTION) == sam.API_HANDLER == "APIHandler"
    assert sam.function_id("send_mail") == "SendMail"
    assert sam.function_id("mail_sweeper") == "MailSweeper"
