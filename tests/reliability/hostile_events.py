"""Hypothesis strategies for what may arrive where Dataverse events are expected: bodies that
are almost a ``RemoteExecutionContext`` (every member missing, of the wrong type or garbage,
``__type`` tags that lie, parent contexts and values nested deep), bodies that are not one
at all (random bytes, invalid UTF-8, UTF-16/32 with and without BOM, huge strings, deep JSON
nesting), numbers no event carries (integers of more digits than Python's int() converts,
4,300; exponents far beyond a float; NaN and Infinity, which Python's JSON parser accepts),
anywhere in a context and nested deep, and hostile headers and Service Bus application
properties.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from hypothesis import strategies as st

XRM = "http://schemas.microsoft.com/xrm/2011/Contracts"
TYPE_TAGS = (
    f"Entity:{XRM}", f"EntityReference:{XRM}", f"OptionSetValue:{XRM}", f"Money:{XRM}",
    f"EntityCollection:{XRM}", f"KeyValuePairOfstringanyType:{XRM}", "Guid:#System",
    "DateTime:#System", "Int32:#System", "", ":", "Entity", "KeyValuePairOf", "::#System",
)
TABLES = ("mp_registration", "contact", "task")
MESSAGES = ("Create", "Update", "Delete", "Associate")
HEADER_NAMES = (
    "x-ms-dynamics-msg-size-exceeded", "x-ms-correlation-request-id", "x-request-id",
    "x-ms-dynamics-organization", "x-ms-dynamics-entity-name", "x-ms-dynamics-request-name",
    "Content-Type", "Content-Encoding",
)
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1")

guids = st.uuids().map(str)
near_guids = st.one_of(
    guids.map(lambda g: g + "\n"), guids.map(lambda g: " " + g), guids.map(lambda g: g[:-1]),
    guids.map(lambda g: "{" + g + "}"), guids.map(lambda g: g + "\r\nx-injected: 1"),
)
dates = st.one_of(
    st.integers(-10**20, 10**20).map(lambda ms: f"/Date({ms})/"),
    st.tuples(st.integers(-10**15, 10**15), st.sampled_from("+-"), st.integers(0, 9999)).map(
        lambda t: f"/Date({t[0]}{t[1]}{t[2]:04d})/"
    ),
    st.text(max_size=30).map(lambda s: f"/Date({s})/"),
)
json_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-10**400, 10**400),
    st.floats(), st.text(), guids, near_guids, dates,
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=12), inner, max_size=4),
    ),
    max_leaves=12,
)


def _typed(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """An object with a ``__type`` tag (true or lying) and the members such tags come with."""
    return st.fixed_dictionaries(
        {"__type": st.one_of(st.sampled_from(TYPE_TAGS), st.text(max_size=20), json_leaves)},
        optional={
            name: values
            for name in ("LogicalName", "Id", "Attributes", "FormattedValues", "KeyAttributes",
                         "Value", "Entities", "EntityName", "key", "value", "__value", "Name",
                         "RowVersion", "MoreRecords")
        },
    )


event_values = st.recursive(
    json_leaves,
    lambda inner: st.one_of(_typed(inner), st.lists(inner, max_size=3)),
    max_leaves=10,
)
pairs = st.one_of(
    st.lists(st.fixed_dictionaries({"key": st.one_of(st.text(max_size=12), json_leaves)},
                                   optional={"value": event_values}), max_size=4),
    json_values,
)
entities = st.fixed_dictionaries(
    {},
    optional={"LogicalName": st.one_of(st.sampled_from(TABLES), json_leaves),
              "Id": st.one_of(guids, json_leaves), "Attributes": pairs,
              "__type": st.one_of(st.sampled_from(TYPE_TAGS), json_leaves)},
)
images = st.one_of(
    st.lists(st.fixed_dictionaries({"key": json_leaves}, optional={"value": entities}),
             max_size=3),
    json_values,
)


REQUIRED = {
    "MessageName": st.sampled_from(MESSAGES),
    "PrimaryEntityName": st.sampled_from(TABLES),
    "PrimaryEntityId": guids,
    "Stage": st.sampled_from((10, 20, 30, 40)),
    "Mode": st.sampled_from((0, 1)),
}
OPTIONAL = {
    "Depth": st.integers(0, 8),
    "CorrelationId": guids,
    "OperationId": guids,
    "RequestId": guids,
    "InitiatingUserId": guids,
    "UserId": guids,
    "BusinessUnitId": guids,
    "OrganizationId": guids,
    "OrganizationName": st.text(max_size=20),
    "OperationCreatedOn": dates,
    "OwningExtension": entities,
    "InputParameters": pairs,
    "OutputParameters": pairs,
    "SharedVariables": pairs,
    "PreEntityImages": images,
    "PostEntityImages": images,
}
MEMBERS = (*REQUIRED, *OPTIONAL, "ParentContext")


@st.composite
def _context(draw: st.DrawFn, parents: st.SearchStrategy[Any]) -> dict[str, Any]:
    """A context with valid required members, then a few members dropped or garbled."""
    context = draw(st.fixed_dictionaries(REQUIRED, optional=OPTIONAL))
    if draw(st.booleans()):
        context["ParentContext"] = draw(parents)
    for name in draw(st.lists(st.sampled_from(MEMBERS), max_size=3, unique=True)):
        if draw(st.booleans()):
            context.pop(name, None)
        else:
            context[name] = draw(json_values)
    return context


contexts = _context(st.recursive(st.none() | json_values, _context, max_leaves=3))


@st.composite
def deep_nesting(draw: st.DrawFn) -> bytes:
    """JSON nested far deeper than any event: arrays, objects, typed values, parents."""
    depth = draw(st.integers(50, 5000))
    kind = draw(st.sampled_from(("array", "object", "key-value", "parent", "entity")))
    base = {"MessageName": "Create", "PrimaryEntityName": "mp_registration",
            "PrimaryEntityId": draw(guids), "Stage": 40, "Mode": 1}
    if kind == "array":
        return b"[" * depth + b"]" * depth
    if kind == "object":
        return b'{"a":' * depth + b"1" + b"}" * depth
    if kind == "key-value":
        value = "1"
        for _ in range(min(depth, 900)):
            value = f'{{"__type":"KeyValuePairOfstringanyType:{XRM}","key":"k","value":{value}}}'
        return _with(base, "InputParameters", f'[{{"key":"Target","value":{value}}}]')
    if kind == "parent":
        nested = "null"
        for _ in range(min(depth, 900)):
            nested = json.dumps(base)[:-1] + f',"ParentContext":{nested}}}'
        return _with(base, "ParentContext", nested)
    value = "1"
    for _ in range(min(depth, 900)):
        value = f'{{"LogicalName":"x","Attributes":[{{"key":"a","value":{value}}}]}}'
    return _with(base, "InputParameters", f'[{{"key":"Target","value":{value}}}]')


def _with(base: dict[str, Any], member: str, raw: str) -> bytes:
    return (json.dumps(base)[:-1] + f',"{member}":{raw}}}').encode()


@st.composite
def number_texts(draw: st.DrawFn) -> str:
    """A JSON number (or what Python takes for one) that no event carries."""
    digits = draw(st.integers(4_000, 12_000))
    lead = draw(st.sampled_from("123456789"))
    body = lead + draw(st.sampled_from("0123456789")) * (digits - 1)
    sign = draw(st.sampled_from(("", "-")))
    exponent = draw(st.integers(309, 10**9))
    return draw(st.sampled_from((
        f"{sign}{body}",
        f"{sign}{body}.5",
        f"{sign}0.{body}",
        f"{sign}1e{exponent}",
        f"{sign}1E-{exponent}",
        f"{sign}{body}e{exponent}",
        f"{sign}{lead}{'0' * 40}",
        "NaN", "Infinity", "-Infinity", "-0", "1e400",
    )))


def _nested(raw: str, depth: int, kind: str) -> str:
    for _ in range(depth):
        raw = f"[{raw}]" if kind == "array" else f'{{"n":{raw}}}'
    return raw


# Where a number can sit in a context: members, typed values, attributes, images, parents.
NUMBER_PLACES = (
    "Stage", "Mode", "Depth", "Unknown", "OperationCreatedOn", "target-attribute",
    "option-set", "money", "image-attribute", "shared-variable", "parent-stage",
    "entity-id", "key-value-key",
)


@st.composite
def numbers_in_contexts(draw: st.DrawFn) -> bytes:
    """A valid context with one unreadable number somewhere, possibly nested deep."""
    number = draw(number_texts())
    depth = draw(st.sampled_from((0, 0, 1, 5, 50, 400, 900)))
    value = _nested(number, depth, draw(st.sampled_from(("array", "object"))))
    base: dict[str, Any] = {"MessageName": draw(st.sampled_from(MESSAGES)),
                            "PrimaryEntityName": draw(st.sampled_from(TABLES)),
                            "PrimaryEntityId": draw(guids), "Stage": 40, "Mode": 1}
    place = draw(st.sampled_from(NUMBER_PLACES))
    entity = f'"__type":"Entity:{XRM}","LogicalName":"{base["PrimaryEntityName"]}"'
    if place in ("Stage", "Mode", "Depth", "Unknown"):
        body = {k: v for k, v in base.items() if k != place}
        return _with(body, place, value)
    if place == "OperationCreatedOn":
        return _with(base, place, json.dumps(f"/Date({number.lstrip('-')})/"))
    if place == "target-attribute":
        target = f'{{{entity},"Attributes":[{{"key":"mp_email","value":{value}}}]}}'
        return _with(base, "InputParameters", f'[{{"key":"Target","value":{target}}}]')
    if place == "option-set":
        typed = f'{{"__type":"OptionSetValue:{XRM}","Value":{value}}}'
        target = f'{{{entity},"Attributes":[{{"key":"mp_kind","value":{typed}}}]}}'
        return _with(base, "InputParameters", f'[{{"key":"Target","value":{target}}}]')
    if place == "money":
        typed = f'{{"__type":"Money:{XRM}","Value":{value}}}'
        target = f'{{{entity},"Attributes":[{{"key":"amount","value":{typed}}}]}}'
        return _with(base, "InputParameters", f'[{{"key":"Target","value":{target}}}]')
    if place == "image-attribute":
        image = f'{{{entity},"Attributes":[{{"key":"mp_status","value":{value}}}]}}'
        return _with(base, "PreEntityImages", f'[{{"key":"PreImage","value":{image}}}]')
    if place == "shared-variable":
        return _with(base, "SharedVariables", f'[{{"key":"tag","value":{value}}}]')
    if place == "parent-stage":
        parent = json.dumps(base)[:-1] + f',"Stage":{value}}}'
        return _with(base, "ParentContext", parent)
    if place == "entity-id":
        target = f'{{{entity},"Id":{value},"Attributes":[]}}'
        return _with(base, "InputParameters", f'[{{"key":"Target","value":{target}}}]')
    return _with(base, "InputParameters", f'[{{"key":{value},"value":1}}]')


@st.composite
def huge(draw: st.DrawFn) -> bytes:
    """A context with one member blown up to as much as a megabyte."""
    size = draw(st.integers(100_000, 1_000_000))
    member = draw(st.sampled_from(("PrimaryEntityName", "OrganizationName", "MessageName",
                                   "CorrelationId", "Unknown")))
    base: dict[str, Any] = {"MessageName": "Create", "PrimaryEntityName": "mp_registration",
                            "PrimaryEntityId": draw(guids), "Stage": 40, "Mode": 1}
    base[member] = draw(st.sampled_from("xé\u2603")) * size
    return json.dumps(base, ensure_ascii=draw(st.booleans())).encode()


@st.composite
def encoded_contexts(draw: st.DrawFn) -> bytes:
    """A generated context, serialized and encoded as some sender might."""
    text = json.dumps(draw(contexts), ensure_ascii=draw(st.booleans()))
    encoding = draw(st.sampled_from(ENCODINGS))
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return codecs.BOM_UTF8 + text.encode("utf-8")


@st.composite
def corrupted(draw: st.DrawFn) -> bytes:
    """An encoded context with bytes cut off, flipped or invalid UTF-8 spliced in."""
    body = bytearray(draw(encoded_contexts()))
    action = draw(st.sampled_from(("truncate", "splice", "flip")))
    at = draw(st.integers(0, max(len(body) - 1, 0)))
    if action == "truncate":
        return bytes(body[:at])
    if action == "splice":
        garbage = draw(st.sampled_from((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xfe\xff")))
        return bytes(body[:at] + garbage + body[at:])
    if body:
        body[at] ^= draw(st.integers(1, 255))
    return bytes(body)


bodies = st.one_of(
    encoded_contexts(),
    corrupted(),
    deep_nesting(),
    huge(),
    numbers_in_contexts(),
    st.binary(max_size=200),
    json_values.map(lambda value: json.dumps(value).encode()),
)
# What an HTTP client sends at all: printable ASCII, no surrounding whitespace.
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E),
                      max_size=60).map(str.strip)
http_headers = st.dictionaries(st.one_of(st.sampled_from(HEADER_NAMES),
                                         st.from_regex(r"\Ax-[a-z-]{1,20}\Z")),
                               header_text, max_size=5)
headers = st.dictionaries(st.one_of(st.sampled_from(HEADER_NAMES), st.text(max_size=20)),
                          st.one_of(st.text(max_size=200), guids, near_guids), max_size=5)
properties = st.dictionaries(
    st.one_of(st.text(max_size=40), st.binary(max_size=40),
              st.sampled_from(("MessageMaxSizeExceeded",
                               "http://schemas.microsoft.com/xrm/2011/Claims/Organization"))),
    st.one_of(json_values, st.binary(max_size=40)),
    max_size=5,
)


def _context_bytes(**members: Any) -> bytes:
    base = {"MessageName": "Create", "PrimaryEntityName": "mp_registration",
            "PrimaryEntityId": "e3e70682-c209-4cac-929f-6fbed82c07cd", "Stage": 40, "Mode": 1}
    return json.dumps({**base, **members}).encode()


def _key_values(depth: int) -> str:
    value = "1"
    for _ in range(depth):
        value = f'{{"__type":"KeyValuePairOfstringanyType:{XRM}","key":"k","value":{value}}}'
    return value


# Bodies that once got something other than EventParseError (or a 500, or a hang) out of
# the parser or the webhook; kept as explicit examples so they are tried on every run.
REGRESSIONS = (
    b"[" * 100_000 + b"]" * 100_000,  # RecursionError in json.loads
    _with(json.loads(_context_bytes()), "InputParameters",
          f'[{{"key":"Target","value":{_key_values(600)}}}]'),  # RecursionError decoding
    _context_bytes(PostEntityImages=[{"key": "a", "value": {"__type": 5, "LogicalName": "a",
                                                             "Id": 7}}]),  # a number as type
    _context_bytes(OperationCreatedOn="/Date(0+9999)/"),  # an offset of 99 hours
    _context_bytes(MessageName="x" * 3_000_000),  # quadratic masking of the log line
    _context_bytes()[:-1] + b',"Depth":' + b"9" * 4_301 + b"}",  # int() digit limit: 500
    _context_bytes()[:-1] + b',"Depth":NaN}',  # not JSON, accepted by Python's parser
    _context_bytes()[:-1] + b',"Depth":' + b"1" * 4_000 + b"}",  # an int beyond Int32
)
VALID = _context_bytes()
# Headers that once turned a valid event into a 500 (sent on as the correlation id).
HEADER_REGRESSIONS = (
    {"x-ms-correlation-request-id": "\u0100"},
    {"x-ms-correlation-request-id": "e3e70682-c209-4cac-929f-6fbed82c07cd\n"},
)
