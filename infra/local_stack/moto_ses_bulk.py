"""SES v1 sends in moto without its per-parameter Python work (SendBulkTemplatedEmail above all).

A notice batch is one SendBulkTemplatedEmail of 50 destinations. moto 5.2.5 served each in about
9 ms of CPU (py-spy of the embedded server under a stream of them):

- ~38 % building the parameters (`moto/core/parse.py`, `QueryParser`): before each structure it
  asks whether any parameter name starts with the structure's prefix (`_gonna_recurse`),
  scanning werkzeug's `CombinedMultiDict` of all ~150 names (building a set of its keys each
  time) for each of the ~150 structures: quadratic in the destinations.
- ~20 % writing the response: 50 MessageIds through the botocore-shape serializer and xmltodict.
- ~14 % message ids: `get_random_message_id` draws its 54 letters with one `random.choice`
  each, 51 ids a call.
- ~9 % splitting the form (werkzeug, `urllib.parse.parse_qsl`): a Python loop over every %XX
  escape, and the JSON template data is mostly escapes.

`install()` patches SES's response class and its id function; moto's code still decides what is
valid, what is stored and what is published:

- `EmailResponse.setup_class` has werkzeug read this request's url-encoded form through its own
  FormDataParser with `fast_parse_qsl` (below) in place of `parse_qsl`.
- `EmailResponse.parse_parameters` builds the parameters with one function per input shape,
  compiled once per operation from the same model, doing what moto's QueryParser handlers do
  (the same prefixes, the same stops, the same conversions, errors raised alike), with the
  form read into a plain dict once and the prefix question answered by bisection in its sorted
  names. Another protocol or parser class, or any error, goes to moto's own method.
- `moto.ses.models.get_random_message_id` draws the same letters from the same generator:
  `choice` among 26 letters takes `getrandbits(5)` (the top 5 bits of one 32-bit word of the
  Mersenne Twister) until it is below 26; `getrandbits(32 * n)` hands out the next n words in
  one call and `bytes.translate` keeps the accepted ones as letters. Each round takes only as
  many words as letters are missing, so the generator moves exactly as moto's loop moves it: a
  seeded moto (`/moto-api/seed`) gives the same ids. A generator drawing otherwise gets moto's.
- `EmailResponse.serialized` writes the XML of SendBulkTemplatedEmail (a Status of one MessageId
  per destination) and of SendEmail, SendTemplatedEmail and SendRawEmail (one MessageId) as
  moto's QuerySerializer writes it; errors, other actions, the JSON form (`ContentType=JSON`),
  pretty printing and unexpected values go to moto's serializer.

A 50-destination send: ~9.3 ms -> ~2.2 ms of server CPU; SendEmail ~1.1 -> ~0.9 ms.
tests/local_stack/test_moto_ses_bulk.py compares each part with moto's own, and a scenario of
sends, errors and feedback run on moto's server with and without the patch (the same raw
responses, stored messages, outbox and notifications). Installed by the local stack with the
other moto patches.
"""
from __future__ import annotations

import binascii
import re
from bisect import bisect_left
from typing import Any
from urllib.parse import parse_qsl

_installed = False
_original_message_id = None  # moto's get_random_message_id (tests compare against it)
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]+\Z")  # written as is by xmltodict (nothing to escape)
_SINGLE_ID_ACTIONS = ("SendEmail", "SendTemplatedEmail", "SendRawEmail")
_BULK_ACTION = "SendBulkTemplatedEmail"

# Message ids: the top byte of a word gives getrandbits(5) = byte >> 3; accepted below 26.
_LETTERS = bytes(ord("a") + (b >> 3) if b >> 3 < 26 else 0 for b in range(256))
_REJECTED = bytes(b for b in range(256) if b >> 3 >= 26)
_ID_LETTERS = 54  # moto's id: groups of 16-8-4-4-4-12-6 lowercase letters


def install() -> None:
    """Patches moto's SES v1 responses and message ids (idempotent)."""
    global _installed, _original_message_id
    if _installed:
        return
    from moto.ses import models
    from moto.ses.responses import EmailResponse

    _original_message_id = models.get_random_message_id
    models.get_random_message_id = get_random_message_id
    EmailResponse.setup_class = _setup_class
    EmailResponse.parse_parameters = _parse_parameters
    EmailResponse.serialized = _serialized
    _installed = True


def installed() -> bool:
    return _installed


# --- request parsing ---------------------------------------------------------------------------

def _setup_class(self, request, *args, **kwargs):
    from moto.ses.responses import EmailResponse

    _use_fast_form_parser(request)
    return super(EmailResponse, self).setup_class(request, *args, **kwargs)


def _use_fast_form_parser(request) -> None:
    """This request's form is read by werkzeug's own FormDataParser with a faster, exact
    `parse_qsl` for url-encoded bodies (fast_parse_qsl). Set on the request only, and only while
    its form is unread and werkzeug's parser is the one it would use."""
    from werkzeug.formparser import FormDataParser

    if "form" in request.__dict__ or type(request).form_data_parser_class is not FormDataParser:
        return
    request.form_data_parser_class = _form_parser_class()


_form_parser = None


def _form_parser_class():
    global _form_parser
    if _form_parser is None:
        from werkzeug.formparser import FormDataParser

        class FastFormDataParser(FormDataParser):
            def _parse_urlencoded(self, stream, mimetype, content_length, options):
                # werkzeug 3.1's own method, with parse_qsl(..., keep_blank_values=True,
                # errors="werkzeug.url_quote") answered by fast_parse_qsl
                items = fast_parse_qsl(stream.read().decode())
                return stream, self.cls(items), self.cls()

        _form_parser = FastFormDataParser
    return _form_parser


_INVALID_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ESCAPED_NEWLINE = re.compile(r"%0[aA]")


def fast_parse_qsl(qs: str) -> list[tuple[str, str]]:
    """`urllib.parse.parse_qsl(qs, keep_blank_values=True, errors="werkzeug.url_quote")`.

    parse_qsl unquotes each name and value on its own, a Python loop over every %XX escape (a
    bulk send's JSON data is mostly escapes). Here all names and values are joined by newlines
    and decoded at once by `binascii.a2b_qp` with `%` read as `=`: the same bytes for every
    escape of two hex digits. It is used only when that is exact: an ASCII body without
    newlines (raw or escaped, the joint), without a `%` not followed by two hex digits, no `=`
    in a value (a2b_qp would read it as an escape) and UTF-8 throughout (so splitting before or
    after decoding is the same, and no error handler is needed); else parse_qsl answers.
    """
    if (not qs.isascii() or "\n" in qs or "\r" in qs or _INVALID_ESCAPE.search(qs)
            or _ESCAPED_NEWLINE.search(qs)):
        return _parse_qsl(qs)
    parts = []
    for field in qs.split("&"):
        if field:
            name, _, value = field.partition("=")
            parts.append(name)
            parts.append(value)
    joined = "\n".join(parts)
    if "=" in joined:
        return _parse_qsl(qs)
    try:
        decoded = binascii.a2b_qp(joined.replace("+", " ").replace("%", "=")).decode("utf-8")
    except UnicodeDecodeError:
        return _parse_qsl(qs)
    if not parts:
        return []
    pieces = decoded.split("\n")
    return list(zip(pieces[0::2], pieces[1::2]))


def _parse_qsl(qs: str) -> list[tuple[str, str]]:
    return parse_qsl(qs, keep_blank_values=True, errors="werkzeug.url_quote")


def _parse_parameters(self, request) -> None:
    from moto.ses.responses import EmailResponse

    parse = _compiled_parse_for(self, request)
    if parse is not None:
        try:
            self.params = parse(request.values)
            return
        except Exception:  # noqa: BLE001 - moto's parser answers, or raises what it raises
            pass
    super(EmailResponse, self).parse_parameters(request)


def _compiled_parse_for(handler, request):
    """The compiled parse of this request's operation, or None when moto's parser must run: a
    protocol other than query, a query parser or map type other than moto's default."""
    from moto.core import responses
    from moto.core.parse import QueryParser

    if handler.PROTOCOL_PARSER_MAP_TYPE is not dict or responses.PROTOCOL_PARSERS.get("query") is not QueryParser:
        return None
    try:
        service_model = responses.get_service_model(handler.boto3_service_name)
        if responses.determine_request_protocol(service_model, request.content_type) != "query":
            return None
        return compiled_parse(service_model.operation_model(handler._get_action()))
    except Exception:  # noqa: BLE001 - moto raises it again
        return None


def _flat(values) -> dict[str, Any]:
    """The first value of each name, the first source (args, then form) winning: what
    werkzeug's CombinedMultiDict.get answers, which is how moto's QueryParser reads them."""
    return dict(values.items())


def _no_name_starts_with(names: list[str], prefix: str) -> bool:
    """`not any(name.startswith(prefix) for name in names)` (QueryParser._gonna_recurse) for
    sorted names: the names starting with `prefix` are the ones sorting first from it on."""
    index = bisect_left(names, prefix)
    return not (index < len(names) and names[index].startswith(prefix))


# moto's QueryParser handlers, by shape type; any other type is read as it is (_default_handle)
_QUERY_HANDLERS = {"blob", "boolean", "double", "float", "integer", "list", "long", "map", "structure",
                   "timestamp"}
_compiled: dict[Any, Any] = {}  # (service model, operation name) -> parse(values) or None


def compiled_parse(operation_model):
    """What moto's QueryParser(operation_model, map_type=dict).parse gives for a request's
    values, as one function per shape compiled from the same model (no handler lookup by name,
    no scan of all names per structure), or None when moto's handlers are not the ones this
    mirrors."""
    key = (operation_model.service_model, operation_model.name)
    if key not in _compiled:
        _compiled[key] = _compile_operation(operation_model)
    return _compiled[key]


def _compile_operation(operation_model):
    from moto.core.parse import UNDEFINED, QueryParser

    handlers = {name[len("_parse_"):] for name in dir(QueryParser) if name.startswith("_parse_")} - {"shape"}
    if handlers != _QUERY_HANDLERS:
        return None
    shape = operation_model.input_shape
    if shape is None:
        return lambda values: {}
    try:
        parse_shape = _compile_shape(shape, {})
    except RecursionError:
        return None

    def parse(values):
        params = _flat(values)
        parsed = parse_shape(params, sorted(params), "")
        return parsed if parsed is not UNDEFINED else {}

    return parse


def _serialized_name(shape, default_name):
    serialized_name = shape.serialization.get("locationNameForQueryCompatibility")
    if serialized_name:
        return serialized_name
    return shape.serialization.get("name", default_name)


def _compile_shape(shape, structures: dict):
    """parse(params, names, prefix) doing what QueryParser._parse_shape(shape, params, prefix)
    does (moto/core/parse.py), `names` being the sorted names of `params`."""
    from moto.core import parse as moto_parse

    UNDEFINED = moto_parse.UNDEFINED
    kind = shape.type_name
    default = shape.metadata.get("default", UNDEFINED)
    if kind == "structure":
        if shape.name in structures:
            return structures[shape.name]
        members: list[tuple[str, str, Any]] = []

        def parse_structure(params, names, prefix):
            if prefix != "" and _no_name_starts_with(names, prefix):
                return UNDEFINED
            parsed = {}
            for member_name, serialized, parse_member in members:
                value = parse_member(params, names, f"{prefix}.{serialized}" if prefix else serialized)
                if value is not UNDEFINED:
                    parsed[member_name] = value
            return parsed if parsed != {} else UNDEFINED

        structures[shape.name] = parse_structure
        for member_name, member_shape in shape.members.items():
            members.append((member_name, _serialized_name(member_shape, member_name),
                            _compile_shape(member_shape, structures)))
        return parse_structure
    if kind == "list":
        parse_member = _compile_shape(shape.member, structures)
        flattened = shape.is_flattened
        location_name = _serialized_name(shape.member, None)
        list_name = _serialized_name(shape.member, "member")

        def parse_list(params, names, prefix):
            if params.get(prefix, UNDEFINED) == "":  # the query protocol's empty list
                return []
            if flattened:
                list_prefix = prefix
                if location_name is not None:
                    list_prefix = ".".join(prefix.split(".")[:-1] + [location_name])
            else:
                list_prefix = f"{prefix}.{list_name}"
            parsed = []
            i = 1
            while True:
                value = parse_member(params, names, f"{list_prefix}.{i}")
                if value is UNDEFINED:
                    break
                parsed.append(value)
                i += 1
            return parsed if parsed != [] else UNDEFINED

        return parse_list
    if kind == "map":
        parse_key = _compile_shape(shape.key, structures)
        parse_value = _compile_shape(shape.value, structures)
        flattened = shape.serialization.get("flattened")
        key_suffix = _serialized_name(shape.key, "key")
        value_suffix = _serialized_name(shape.value, "value")

        def parse_map(params, names, prefix):
            full_prefix = prefix if flattened else f"{prefix}.entry"
            parsed = {}
            i = 1
            while True:
                key = parse_key(params, names, f"{full_prefix}.{i}.{key_suffix}")
                value = parse_value(params, names, f"{full_prefix}.{i}.{value_suffix}")
                if key is UNDEFINED:
                    break
                parsed[key] = value
                i += 1
            return parsed if parsed != {} else UNDEFINED

        return parse_map
    if kind == "boolean":
        def parse_boolean(params, names, prefix):
            value = params.get(prefix, default)
            if value is True or value is False:
                return value
            try:
                return value.lower() == "true"
            except AttributeError:
                pass
            return UNDEFINED

        return parse_boolean
    convert = {"blob": moto_parse.default_blob_parser, "timestamp": moto_parse.default_timestamp_parser,
               "integer": int, "long": int, "float": float, "double": float}.get(kind)
    if convert is None:  # strings and any other type: the value as sent
        def parse_value_as_is(params, names, prefix):
            return params.get(prefix, default)

        return parse_value_as_is

    def parse_converted(params, names, prefix):
        value = params.get(prefix, default)
        if value is UNDEFINED:
            return value
        return convert(value)

    return parse_converted


# --- message ids -------------------------------------------------------------------------------

def _draws_like_moto(rng) -> bool:
    """moto's `random.choice(ascii_lowercase)` is `getrandbits(5)` until below 26 for this
    generator: Random's own choice, _randbelow and getrandbits (not overridden)."""
    import random
    import string

    from moto.ses import utils

    cls = type(rng)
    return (isinstance(rng, random.Random) and cls.choice is random.Random.choice
            and cls._randbelow is random.Random._randbelow_with_getrandbits
            and cls.getrandbits is random.Random.getrandbits
            and utils.string.ascii_lowercase == string.ascii_lowercase == "abcdefghijklmnopqrstuvwxyz")


def random_letters(rng, count: int) -> str:
    """`"".join(rng.choice(ascii_lowercase) for _ in range(count))`, drawing the same words."""
    letters = b""
    missing = count
    while missing:
        words = rng.getrandbits(32 * missing).to_bytes(4 * missing, "little")  # word i at 4i..4i+3
        letters += words[3::4].translate(_LETTERS, _REJECTED)  # top bytes of the accepted words
        missing = count - len(letters)
    return letters.decode("ascii")


def get_random_message_id() -> str:
    """moto's SES message id (16-8-4-4-4-12-6 lowercase letters), drawn as moto draws it from
    moto's generator (`moto.ses.utils.random`, the seedable `mock_random`)."""
    from moto.ses import utils

    rng = utils.random
    if not _draws_like_moto_cached(rng):
        return _original_message_id()
    letters = random_letters(rng, _ID_LETTERS)
    return (f"{letters[:16]}-{letters[16:24]}-{letters[24:28]}-{letters[28:32]}-{letters[32:36]}-"
            f"{letters[36:48]}-{letters[48:54]}")


_checked_generator: list[Any] = [None, False]


def _draws_like_moto_cached(rng) -> bool:
    if _checked_generator[0] is not rng:
        _checked_generator[:] = [rng, _draws_like_moto(rng)]
    return _checked_generator[1]


# --- responses ---------------------------------------------------------------------------------

def _serialized(self, action_result):
    from moto.ses.responses import EmailResponse

    fast = _fast_response(self, action_result)
    if fast is None:
        return super(EmailResponse, self).serialized(action_result)
    return fast


def _fast_response(self, action_result):
    """(status, headers, body) as moto's QuerySerializer gives them, or None to let it answer."""
    from moto import settings
    from moto.core import responses, serialize

    if type(action_result) is not responses.ActionResult or settings.PRETTIFY_RESPONSES:
        return None
    result = action_result.result
    if type(result) is not dict or getattr(self, "RESPONSE_KEY_PATH_TO_TRANSFORMER", None):  # moto: {}
        return None
    action = self._get_action()
    if action == _BULK_ACTION:
        statuses = result.get("Status")
        if len(result) != 1 or type(statuses) is not list or not statuses:
            return None
        ids = []
        for status in statuses:
            if type(status) is not dict or len(status) != 1:
                return None
            message_id = status.get("MessageId")
            if type(message_id) is not str or not _SAFE_ID.match(message_id):
                return None
            ids.append(message_id)
        inner = "<Status>" + "".join(f"<member><MessageId>{i}</MessageId></member>" for i in ids) + "</Status>"
    elif action in _SINGLE_ID_ACTIONS:
        message_id = result.get("MessageId")
        if len(result) != 1 or type(message_id) is not str or not _SAFE_ID.match(message_id):
            return None
        inner = f"<MessageId>{message_id}</MessageId>"
    else:
        return None
    service_model = responses.get_service_model(self.boto3_service_name)
    if (self.determine_response_protocol(service_model) != "query"
            or serialize.get_serializer_class(service_model.service_name, "query") is not serialize.QuerySerializer):
        return None
    operation_model = service_model.operation_model(action)
    namespace = operation_model.metadata.get("xmlNamespace")
    output = operation_model.output_shape
    if not namespace or output is None:
        return None
    result_key = output.serialization.get("resultWrapper", f"{output.name}Result")
    response_key = f"{operation_model.name}Response"
    body = (f'<{response_key} xmlns="{namespace}"><{result_key}>{inner}</{result_key}>'
            f"<ResponseMetadata><RequestId>request-id</RequestId></ResponseMetadata></{response_key}>")
    headers = {"Content-Type": serialize.QuerySerializer.CONTENT_TYPE}
    headers.update(self.response_headers)
    status = operation_model.http.get("responseCode", serialize.QuerySerializer.DEFAULT_RESPONSE_CODE)
    return status, headers, body
