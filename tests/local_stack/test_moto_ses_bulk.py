"""SES sends in moto, patched (infra/local_stack/moto_ses_bulk.py), answer as moto itself does.

The patch replaces how a request's form is split, how its parameters are built, how message ids
are drawn and how the XML of a send is written. Each is compared here with moto's own: the
form with `parse_qsl`, the parameters with moto's `QueryParser` (every SES operation, random
inputs, odd forms, a model with what SES does not use), the ids with moto's generator under the
same seed, the XML with moto's serializer, and a whole scenario of sends, errors and feedback run
on moto's server once with and once without the patch.
"""
from __future__ import annotations

import json
import os
import random
import string
import subprocess
import sys
from datetime import datetime, timezone
from email.utils import parseaddr
from urllib.parse import parse_qsl, urlencode

import pytest

from infra.local_stack import moto_ses_bulk, ses_feedback

STRINGS = [
    "", "plain", "Jörg Müller – Straße", "日本語 🎉", "<p class=\"x\">Hi &amp; bye</p>", "a & b = c + d",
    "100% sure", "%41 is not A", "quote ' and \" both", "line\nbreak\r\nand\ttab", "{}", '{"name": "x"}',
    json.dumps({"name": "Zoë", "url": "https://r.test/p?a=1&b=2+3", "html": "<b>&</b>"}),
    "trailing space ", "+plus+", "=", "&", "~-._*", "back\\slash",
]


def moto_query_params(operation_model, values):
    from moto.core.parse import QueryParser

    return QueryParser(operation_model, map_type=dict).parse({"values": values})


def outcome(parse, *args):
    """The answer, or the error's type and text: both parsers must fail alike."""
    try:
        return "ok", typed(parse(*args))
    except Exception as error:  # noqa: BLE001
        return "error", type(error).__name__, str(error)


def typed(value):
    """The value with the type of every part spelled out (True is not "true", a dict not a list)."""
    if isinstance(value, dict):
        return ["dict" if type(value) is dict else type(value).__name__, [[k, typed(v)] for k, v in value.items()]]
    if isinstance(value, list):
        return ["list", [typed(v) for v in value]]
    return [type(value).__name__, value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)]


def form(body: str):
    """A url-encoded POST as moto receives it (its Request; werkzeug's values)."""
    from moto.core.request import Request

    return Request.from_primitives("POST", "https://email.eu-central-1.amazonaws.com/",
                                   {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                                   body.encode("utf-8"))


def ses_model():
    from moto.core.responses import get_service_model

    return get_service_model("ses")


def serialized_body(operation_model, params) -> str:
    """The body boto3 sends for the call (botocore's query serializer, urlencoded as it does)."""
    from botocore.serialize import create_serializer

    body = create_serializer("query", include_validation=False).serialize_to_request(params, operation_model)["body"]
    return urlencode(list(body.items()), doseq=True)


def bulk_params(count: int, **extra) -> dict:
    destinations = [{"Destination": {"ToAddresses": [f"p{i}@example.org"]},
                     "ReplacementTemplateData": STRINGS[i % len(STRINGS)]} for i in range(count)]
    return {"Source": "Acme <noreply@example.com>", "Template": "t", "DefaultTemplateData": '{"a": "b"}',
            "Destinations": destinations, **extra}


# --- the form ------------------------------------------------------------------------------------

def reference_parse_qsl(qs: str):
    import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" error handler

    return parse_qsl(qs, keep_blank_values=True, errors="werkzeug.url_quote")


@pytest.mark.parametrize("qs", [
    "", "&", "&&a=1&&", "a", "a=", "=b", "a=1&a=2", "a+b=c+d", "a=%41%42%c3%a4%C3%A4", "a=%4", "a=%", "a=%zz",
    "a=%%41", "a=%0A&b=2", "a=%0d", "a=b=c", "a=%3D", "a=%FF", "a=%C3", "a=%C3&b=%A4", "a=ä", "a=\n", "k%2Eq=1",
    "a=%E2%82&b=%AC", "Action=SendEmail&Message.Body.Text.Data=x%0Ay",
])
def test_the_fast_form_split_is_parse_qsl(qs):
    assert moto_ses_bulk.fast_parse_qsl(qs) == reference_parse_qsl(qs)


def test_the_fast_form_split_is_parse_qsl_for_random_bodies():
    rng = random.Random(3)
    alphabet = "ab=&+%%%0123456789ABCDEFacdefz\n.ä"
    for _ in range(5000):
        qs = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30)))
        assert moto_ses_bulk.fast_parse_qsl(qs) == reference_parse_qsl(qs), qs


def test_the_fast_form_split_is_parse_qsl_for_sends():
    model = ses_model()
    for params in (bulk_params(1), bulk_params(50, ReplyToAddresses=["h@example.com"])):
        body = serialized_body(model.operation_model("SendBulkTemplatedEmail"), params)
        assert "%" in body and moto_ses_bulk.fast_parse_qsl(body) == reference_parse_qsl(body)


def test_ses_requests_read_their_form_with_the_fast_split_and_others_do_not():
    from moto.ses.responses import EmailResponse

    moto_ses_bulk.install()
    body = serialized_body(ses_model().operation_model("SendBulkTemplatedEmail"), bulk_params(3))
    ses_request, plain_request = form(body), form(body)
    EmailResponse().setup_class(ses_request)
    assert ses_request.form_data_parser_class.__name__ == "FastFormDataParser"
    assert plain_request.form_data_parser_class.__name__ == "FormDataParser"
    assert list(ses_request.form.items(multi=True)) == list(plain_request.form.items(multi=True))
    assert ses_request.data == plain_request.data == b""  # the parse reads the stream, as in moto


# --- the parameters ------------------------------------------------------------------------------

def random_input(shape, rng: random.Random, depth: int = 0):
    """A value of any input shape (botocore serializes it): some members, short lists and maps."""
    kind = shape.type_name
    if kind == "structure":
        members = list(shape.members.items())
        chosen = [m for m in members if m[0] in shape.required_members or rng.random() < 0.6] if depth < 5 else []
        return {name: random_input(member, rng, depth + 1) for name, member in chosen}
    if kind == "list":
        return [random_input(shape.member, rng, depth + 1) for _ in range(rng.choice([0, 1, 1, 2, 3, 11]))]
    if kind == "map":
        return {rng.choice(STRINGS) or "k": random_input(shape.value, rng, depth + 1) for _ in range(rng.randrange(0, 3))}
    if kind == "boolean":
        return rng.random() < 0.5
    if kind in ("integer", "long"):
        return rng.choice([0, 7, -3, 2 ** 40])
    if kind in ("double", "float"):
        return rng.choice([0.5, 3.0, -1.25])
    if kind == "timestamp":
        return datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    if kind == "blob":
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
    enum = shape.enum if hasattr(shape, "enum") else None
    return rng.choice(enum) if enum and rng.random() < 0.7 else rng.choice(STRINGS)


@pytest.mark.parametrize("service", ["ses", "sns", "iam", "cloudformation", "rds", "autoscaling"])
def test_every_operation_gets_moto_s_parameters(service):
    """Random requests for every operation of SES and of other query services (maps, doubles,
    longs, timestamps): the compiled parse answers as moto's QueryParser, errors included."""
    from moto.core.responses import get_service_model

    model = get_service_model(service)
    rng = random.Random(service)
    for operation in model.operation_names:
        operation_model = model.operation_model(operation)
        parse = moto_ses_bulk.compiled_parse(operation_model)
        assert parse is not None
        for _ in range(6):
            values = form(serialized_body(operation_model, random_input(operation_model.input_shape, rng)
                                          if operation_model.input_shape else {})).values
            assert outcome(parse, values) == outcome(moto_query_params, operation_model, values), operation


@pytest.mark.parametrize("params", [
    bulk_params(1), bulk_params(50), bulk_params(12, ReplyToAddresses=["a@example.com", "b@example.com"]),
    {**bulk_params(2), "Destinations": [
        {"Destination": {"ToAddresses": ["t@example.org"], "CcAddresses": ["c@example.org"],
                         "BccAddresses": ["b1@example.org", "b2@example.org"]},
         "ReplacementTags": [{"Name": "n", "Value": "v=1&2"}], "ReplacementTemplateData": ""},
        {"Destination": {"ToAddresses": ["ü@exämple.org"]}}],
     "DefaultTags": [{"Name": "campaign", "Value": "x"}], "ConfigurationSetName": "cs",
     "ReturnPath": "rp@example.com", "SourceArn": "arn:aws:ses:x", "ReturnPathArn": "arn:aws:ses:y"},
], ids=["one", "fifty", "reply-to", "cc-bcc-tags"])
def test_bulk_sends_get_moto_s_parameters(params):
    operation_model = ses_model().operation_model("SendBulkTemplatedEmail")
    values = form(serialized_body(operation_model, params)).values
    parsed = moto_ses_bulk.compiled_parse(operation_model)(values)
    assert typed(parsed) == typed(moto_query_params(operation_model, values))
    assert len(parsed["Destinations"]) == len(params["Destinations"])


@pytest.mark.parametrize("body", [
    "Action=SendBulkTemplatedEmail&Destinations=",  # the query protocol's empty list
    "Action=SendBulkTemplatedEmail&Destinations.member.2.ReplacementTemplateData=x",  # a gap: no member 1
    "Action=SendBulkTemplatedEmail&Destinations.member.10.ReplacementTemplateData=x",  # member.1 is its prefix
    "Action=SendBulkTemplatedEmail&Destinations.member.1=x&Destinations.member.1.ReplacementTemplateData=y",
    "Action=SendBulkTemplatedEmail&Destinations.member.1.Destination.ToAddresses=&Source=",
    "Action=SendBulkTemplatedEmail&Destinations.member.1.Destination.ToAddresses.member.1=a"
    "&Destinations.member.1.Destination.ToAddresses.member.3=c&Unknown.Name=1&Destinations.memberX=2",
    "Action=SendBulkTemplatedEmail&Template=a&Template=b&DefaultTags.member.1.Name=n",
    "Action=GetIdentityVerificationAttributes&Identities.member.1=a&Identities.member.2=&Identities.member.3=c",
    "Action=SetIdentityFeedbackForwardingEnabled&Identity=x&ForwardingEnabled=TRUE",
    "Action=SetIdentityFeedbackForwardingEnabled&Identity=x&ForwardingEnabled=yes",
    "Action=SendRawEmail&RawMessage.Data=aGVsbG8%3D",
    "Action=SendRawEmail&RawMessage.Data=not+base64!",
    "Action=UpdateConfigurationSetReputationMetricsEnabled&ConfigurationSetName=c&Enabled=false",
    "Action=ListIdentities&MaxItems=seven",
    "Action=ListIdentities&MaxItems=7",
    "Action=SendEmail",
])
def test_odd_forms_get_moto_s_parameters(body):
    action = dict(parse_qsl(body))["Action"]
    operation_model = ses_model().operation_model(action)
    values = form(body).values
    assert (outcome(moto_ses_bulk.compiled_parse(operation_model), values)
            == outcome(moto_query_params, operation_model, values))


def synthetic_model():
    """A query model with what SES does not use: flattened lists and maps, wire names, defaults."""
    from moto.core.model import ServiceModel

    return ServiceModel({
        "metadata": {"protocol": "query", "apiVersion": "2020-01-01", "endpointPrefix": "synthetic",
                     "serviceId": "Synthetic", "signatureVersion": "v4"},
        "operations": {"Op": {"name": "Op", "http": {"method": "POST", "requestUri": "/"},
                              "input": {"shape": "OpInput"}}},
        "shapes": {
            "OpInput": {"type": "structure", "members": {
                "Flat": {"shape": "FlatList", "locationName": "Item"},
                "FlatNoName": {"shape": "FlatListNoName"},
                "Named": {"shape": "NamedList"},
                "Attrs": {"shape": "Attrs"},
                "FlatAttrs": {"shape": "FlatAttrs", "locationName": "Attr"},
                "Renamed": {"shape": "Str", "locationName": "WireName"},
                "Compat": {"shape": "Str", "locationNameForQueryCompatibility": "CompatName"},
                "Defaulted": {"shape": "DefaultedStr"},
                "Count": {"shape": "Int"}, "Ratio": {"shape": "Double"}, "Flag": {"shape": "Bool"},
                "When": {"shape": "Time"}, "Data": {"shape": "Blob"}, "Nested": {"shape": "OpInput"},
            }},
            "FlatList": {"type": "list", "member": {"shape": "Str", "locationName": "Entry"}, "flattened": True},
            "FlatListNoName": {"type": "list", "member": {"shape": "Str"}, "flattened": True},
            "NamedList": {"type": "list", "member": {"shape": "Str", "locationName": "Thing"}},
            "Attrs": {"type": "map", "key": {"shape": "Str", "locationName": "Name"},
                      "value": {"shape": "Str", "locationName": "Value"}},
            "FlatAttrs": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Int"}, "flattened": True},
            "Str": {"type": "string"}, "DefaultedStr": {"type": "string", "default": "dflt"},
            "Int": {"type": "integer"}, "Double": {"type": "double"}, "Bool": {"type": "boolean"},
            "Time": {"type": "timestamp"}, "Blob": {"type": "blob"},
        },
    })


@pytest.mark.parametrize("body", [
    "Item.1=a&Item.2=b&FlatNoName.1=c&Named.Thing.1=d&Named.Thing.2=e",
    "Attrs.entry.1.Name=k&Attrs.entry.1.Value=v&Attrs.entry.2.Name=k2&Attr.1.key=x&Attr.1.value=3",
    "WireName=w&Renamed=r&CompatName=c&Compat=d&Defaulted=given",
    "Count=7&Ratio=2.5&Flag=True&When=2024-05-06T07:08:09Z&Data=aGk%3D",
    "Nested.Item.1=a&Nested.WireName=x&Nested.Nested.Count=3",
    "Nested.Attrs.entry.1.Value=v", "Item=&Named=", "Count=x", "When=yesterday", "",
])
def test_what_ses_does_not_use_gets_moto_s_parameters_too(body):
    operation_model = synthetic_model().operation_model("Op")
    values = form(body).values
    assert (outcome(moto_ses_bulk.compiled_parse(operation_model), values)
            == outcome(moto_query_params, operation_model, values))


# --- message ids ---------------------------------------------------------------------------------

def test_message_ids_are_moto_s_for_the_same_seed():
    from moto.moto_api._internal import mock_random
    from moto.ses import utils

    state = mock_random.getstate()
    try:
        for seed in range(40):
            mock_random.seed(seed)
            moto_ids = [utils.get_random_message_id() for _ in range(51)]
            after_moto = mock_random.getstate()
            mock_random.seed(seed)
            fast_ids = [moto_ses_bulk.get_random_message_id() for _ in range(51)]
            assert fast_ids == moto_ids
            assert mock_random.getstate() == after_moto  # the generator moved exactly as much
    finally:
        mock_random.setstate(state)


def test_random_letters_draw_like_choice_for_any_count():
    for count in (0, 1, 2, 7, 54, 500):
        moto_rng, fast_rng = random.Random(count), random.Random(count)
        assert (moto_ses_bulk.random_letters(fast_rng, count)
                == "".join(moto_rng.choice(string.ascii_lowercase) for _ in range(count)))
        assert fast_rng.getstate() == moto_rng.getstate()


def test_a_generator_that_draws_otherwise_gets_moto_s_own_ids(monkeypatch):
    from moto.ses import utils

    class OtherRandom(random.Random):
        def random(self):  # choice then draws through random(), not getrandbits
            return super().random()

    moto_ses_bulk.install()
    monkeypatch.setattr(utils, "random", OtherRandom(5))
    fast = [moto_ses_bulk.get_random_message_id() for _ in range(3)]
    monkeypatch.setattr(utils, "random", OtherRandom(5))
    assert fast == [moto_ses_bulk._original_message_id() for _ in range(3)]


# --- the response ---------------------------------------------------------------------------------

def handler(action: str, extra: str = ""):
    from moto.ses.responses import EmailResponse

    response = EmailResponse()
    response.setup_class(form(f"Action={action}&Version=2010-12-01{extra}"))
    return response


@pytest.mark.parametrize("action, result", [
    ("SendBulkTemplatedEmail", {"Status": [{"MessageId": "abc-def"}]}),
    ("SendBulkTemplatedEmail", {"Status": [{"MessageId": f"id-{i}-xyz"} for i in range(50)]}),
    ("SendEmail", {"MessageId": "abcdefghijklmnop-abcdefgh-abcd-abcd-abcd-abcdefghijkl-abcdef"}),
    ("SendTemplatedEmail", {"MessageId": "A.b_c-9"}),
    ("SendRawEmail", {"MessageId": "x"}),
])
def test_sends_are_written_as_moto_writes_them(action, result):
    from moto.core.responses import ActionResult, BaseResponse

    response = handler(action)
    fast = moto_ses_bulk._fast_response(response, ActionResult(result))
    assert fast is not None
    assert fast == BaseResponse.serialized(response, ActionResult(result))


@pytest.mark.parametrize("action, result, extra", [
    ("SendBulkTemplatedEmail", {"Status": []}, ""),
    ("SendBulkTemplatedEmail", {"Status": [{"MessageId": "a<b"}]}, ""),
    ("SendBulkTemplatedEmail", {"Status": [{"MessageId": "a", "Status": "Success"}]}, ""),
    ("SendBulkTemplatedEmail", {"Status": [{"MessageId": "a"}], "Other": 1}, ""),
    ("SendEmail", {"MessageId": ""}, ""),
    ("SendEmail", {"MessageId": "a&b"}, ""),
    ("SendEmail", {"MessageId": 5}, ""),
    ("SendEmail", {"MessageId": "abc"}, "&ContentType=JSON"),
    ("GetSendQuota", {"Max24HourSend": 200}, ""),
])
def test_anything_else_is_written_by_moto(action, result, extra):
    from moto.core.responses import ActionResult, BaseResponse, EmptyResult, PaginatedResult

    response = handler(action, extra)
    assert moto_ses_bulk._fast_response(response, ActionResult(result)) is None
    moto_ses_bulk.install()
    assert response.serialized(ActionResult(result)) == BaseResponse.serialized(response, ActionResult(result))
    assert moto_ses_bulk._fast_response(response, EmptyResult()) is None
    assert moto_ses_bulk._fast_response(response, PaginatedResult(result)) is None


# --- ses_feedback's address check ----------------------------------------------------------------

def test_plain_addresses_are_what_parseaddr_returns_unchanged():
    """ses_feedback skips parseaddr for addresses PLAIN_ADDRESS matches: for them it is the identity."""
    rng = random.Random(9)
    atom = "ab.+-_!#'=?{}~%/Z9$&*^`|"
    other = " <>\"(),:;[]\\ä@."
    matched = 0
    for _ in range(20000):
        local, domain = ("".join(rng.choice(atom) for _ in range(rng.randrange(1, 8))) for _ in range(2))
        address = f"{local}@{domain}"
        if rng.random() < 0.3:
            at = rng.randrange(len(address) + 1)
            address = address[:at] + rng.choice(other) + address[at:]
        if ses_feedback.PLAIN_ADDRESS.match(address):
            matched += 1
            assert parseaddr(address) == ("", address), address
    assert matched > 2000


def kind_through_parseaddr(address: str):
    """ses_feedback._kind as it was: every address through parseaddr."""
    local, _, domain = parseaddr(address)[1].partition("@")
    if domain.lower() != ses_feedback.SIMULATOR_DOMAIN:
        return None
    return {"bounce": "Bounce", "complaint": "Complaint"}.get(local.split("+")[0].lower())


@pytest.mark.parametrize("address, kind", [
    ("bounce@simulator.amazonses.com", "Bounce"), ("Complaint+x.y@SIMULATOR.amazonses.com", "Complaint"),
    ("Ann <bounce+1@simulator.amazonses.com>", "Bounce"), ("bounce@simulator.amazonses.com.evil", None),
    ("success@simulator.amazonses.com", None), ("p1@example.org", None), ("bounce@simulator.amazonses.com ", "Bounce"),
    ("bounce@simulator (a comment).amazonses.com", "Bounce"), ('"bounce"@simulator.amazonses.com', None),
    ("bounce@simulator.amazonses.com, p1@example.org", "Bounce"), ("", None), ("@", None),
])
def test_the_feedback_kind_of_an_address_is_parseaddr_s_reading(address, kind):
    assert ses_feedback._kind(address) == kind_through_parseaddr(address) == kind


# --- the whole of it, on moto's server --------------------------------------------------------------

def run_scenario(patched: bool) -> dict:
    """Sends, errors and feedback through moto's server (seeded): every raw response, the stored
    messages, the outbox, the captured bodies, the feedback notifications. Run in a fresh
    interpreter, once with the patch and once without."""
    import boto3
    import requests
    from botocore.config import Config
    from moto.moto_api._internal import mock_random
    from moto.server import ThreadedMotoServer
    from moto.ses.models import ses_backends

    from infra.local_stack import ses_capture
    from infra.local_stack.fake_aws import ACCOUNT_ID, REGION, apply_fake_aws_environment
    from infra.local_stack.outbox import read_outbox

    apply_fake_aws_environment(os.environ)
    ses_feedback.install()
    if patched:
        moto_ses_bulk.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    ses_capture.install()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    mock_random.seed(20240506)
    config = Config(parameter_validation=False, retries={"max_attempts": 1})
    ses, sns, sqs = (boto3.client(name, endpoint_url=url, config=config) for name in ("ses", "sns", "sqs"))
    raw: list = []
    ses.meta.events.register("before-parse.ses.*", lambda response_dict, **_: raw.append(
        [response_dict["status_code"], sorted((k.lower(), v) for k, v in response_dict["headers"].items() if k.lower() != "date"),
         response_dict["body"].decode()]))

    ses.verify_domain_identity(Domain="example.com")
    queue = sqs.create_queue(QueueName="feedback")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name="feedback")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    for kind in ("Bounce", "Complaint"):
        ses.set_identity_notification_topic(Identity="example.com", NotificationType=kind, SnsTopic=topic)
    ses.create_template(Template={"TemplateName": "t", "SubjectPart": "Hi {{name}}", "TextPart": "{{name}}: {{url}}",
                                  "HtmlPart": "<p>{{name}}</p><a href=\"{{url}}\">x</a>"})

    def data(i: int) -> str:
        return json.dumps({"name": STRINGS[i % len(STRINGS)], "url": f"https://r.test/p/{i}?a=1&b=2"})

    fifty = [{"Destination": {"ToAddresses": [f"p{i}@example.org"]}, "ReplacementTemplateData": data(i)} for i in range(50)]
    fifty[3]["Destination"]["ToAddresses"] = ["bounce+3@simulator.amazonses.com"]
    fifty[7]["Destination"]["ToAddresses"] = ["Ann <complaint@simulator.amazonses.com>"]
    fifty[9]["ReplacementTags"] = [{"Name": "n", "Value": "v"}]
    fifty[11]["ReplacementTemplateData"] = ""
    copied = [{"Destination": {"ToAddresses": ["t@example.org"], "CcAddresses": ["cc@example.org"],
                               "BccAddresses": ["bcc@example.org", "bounce@simulator.amazonses.com"]},
               "ReplacementTemplateData": data(1)}, fifty[1]]
    calls = [
        ("send_bulk_templated_email", dict(Source="noreply@example.com", Template="t", DefaultTemplateData="{}",
                                           Destinations=fifty[:1])),
        ("send_bulk_templated_email", dict(Source="Acme <noreply@example.com>", ReplyToAddresses=["h@example.com"],
                                           Template="t", DefaultTemplateData=data(99), Destinations=fifty,
                                           DefaultTags=[{"Name": "c", "Value": "d"}], ConfigurationSetName="cs")),
        ("send_bulk_templated_email", dict(Source="noreply@example.com", Template="t", DefaultTemplateData="{}",
                                           Destinations=copied)),  # CC and BCC
        ("send_bulk_templated_email", dict(Source="noreply@example.com", Template="t", DefaultTemplateData="{}",
                                           Destinations=fifty + fifty[:1])),  # 51 destinations
        ("send_bulk_templated_email", dict(Source="noreply@example.com", Template="t", DefaultTemplateData="{}",
                                           Destinations=[{"Destination": {"ToAddresses": ["a@example.org", "b@example.org"]}}] * 26)),
        ("send_bulk_templated_email", dict(Source="noreply@elsewhere.com", Template="t", DefaultTemplateData="{}",
                                           Destinations=fifty[:2])),  # unverified source
        ("send_bulk_templated_email", dict(Source="noreply@example.com", Template="missing", DefaultTemplateData="{}",
                                           Destinations=fifty[:2])),
        ("send_bulk_templated_email", dict(Source="noreply@example.com", Template="t", DefaultTemplateData="{}",
                                           Destinations=[])),
        ("send_email", dict(Source="noreply@example.com", Destination={"ToAddresses": ["a@example.org", "bounce@simulator.amazonses.com"]},
                            Message={"Subject": {"Data": "Grüße"}, "Body": {"Text": {"Data": "line 1\nline 2 & 100%"},
                                                                           "Html": {"Data": "<p>a &amp; b</p>"}}})),
        ("send_email", dict(Source="noreply@example.com", Destination={"ToAddresses": ["a@nodomain"]},
                            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}})),
        ("send_email", dict(Source="noreply@example.com", Destination={"ToAddresses": ["missing-domain"]},
                            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}})),
        ("send_templated_email", dict(Source="noreply@example.com", Destination={"ToAddresses": ["x@example.org"], "BccAddresses": ["y@example.org"]},
                                      ReplyToAddresses=["r@example.com"], Template="t", TemplateData=data(4))),
        ("send_templated_email", dict(Source="noreply@example.com", Destination={"ToAddresses": ["x@example.org"]},
                                      Template="missing", TemplateData="{}")),
        ("send_raw_email", dict(Source="noreply@example.com", Destinations=["z@example.org"],
                                RawMessage={"Data": b"From: noreply@example.com\r\nTo: z@example.org\r\nSubject: raw\r\n\r\nbody"})),
        ("get_send_quota", {}),
        ("get_identity_verification_attributes", dict(Identities=["example.com", "nope.com"])),
        ("list_identities", dict(IdentityType="Domain")),
        ("get_template", dict(TemplateName="t")),
    ]
    errors = []
    for method, params in calls:
        try:
            getattr(ses, method)(**params)
            errors.append(None)
        except Exception as error:  # noqa: BLE001 - the errors are compared too
            errors.append(type(error).__name__)
    auth = {"Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240506/eu-central-1/ses/aws4_request, "
                             "SignedHeaders=host, Signature=x",
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    for body in ("Action=SendEmail&Version=2010-12-01&ContentType=JSON&Source=noreply%40example.com"
                 "&Destination.ToAddresses.member.1=j%40example.org&Message.Subject.Data=s&Message.Body.Text.Data=t",
                 "Action=SendBulkTemplatedEmail&Version=2010-12-01&Source=noreply%40example.com&Template=t"
                 "&DefaultTemplateData=%7B%7D&Destinations.member.1.Destination.ToAddresses.member.1=q%40example.org"
                 "&Destinations.member.1.ReplacementTemplateData=100%25+%zz%FF"):
        response = requests.post(url, data=body.encode(), headers=auth, timeout=30)
        raw.append([response.status_code, sorted((k.lower(), v) for k, v in response.headers.items() if k.lower() != "date"),
                    response.text])

    backend = ses_backends[ACCOUNT_ID][REGION]
    feedback = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        for message in messages:
            notification = json.loads(message["Body"])
            for part in ("mail", "bounce", "complaint"):
                for key in ("timestamp", "feedbackId"):
                    notification.get(part, {}).pop(key, None)
            feedback.append(notification)
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    result = {
        "raw": raw, "errors": errors,
        "sent": [[type(m).__name__, typed(vars(m))] for m in backend.sent_messages],
        "counts": [backend.sent_message_count, backend.rejected_messages_count],
        "outbox": read_outbox(ACCOUNT_ID, REGION),
        "captured": [repr(ses_capture.bodies_of(m.id)) for m in backend.sent_messages if hasattr(m, "id")],
        "feedback": sorted(feedback, key=json.dumps),
        "next_random": mock_random.random(),
        "patched": moto_ses_bulk.installed(),
    }
    server.stop()
    return result


def scenario_in_a_fresh_interpreter(patched: bool) -> dict:
    code = ("import json, sys\nfrom tests.local_stack.test_moto_ses_bulk import run_scenario\n"
            f"sys.stdout.write(json.dumps(run_scenario({patched})))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    return json.loads(out.stdout)


def test_the_server_answers_stores_and_reports_as_moto_does():
    moto = scenario_in_a_fresh_interpreter(False)
    patched = scenario_in_a_fresh_interpreter(True)
    assert (moto.pop("patched"), patched.pop("patched")) == (False, True)
    for key in moto:
        assert patched[key] == moto[key], key
    # the scenario did what it says: sends stored, errors refused, feedback published, mails shown
    assert moto["errors"] == [None, None, None, "MessageRejected", "MessageRejected", "MessageRejected",
                              "TemplateDoesNotExistException", None, None, None, "ClientError", None,
                              "TemplateDoesNotExistException", None, None, None, None, None]
    assert len(moto["outbox"]) == 1 + 50 + 2 + 2 + 1 + 1 + 2
    assert sorted(n["notificationType"] for n in moto["feedback"]) == ["Bounce", "Bounce", "Complaint"]
    assert max(body.count("<MessageId>") for _, _, body in moto["raw"]) == 50
