"""A message's shape, read from its descriptor and the `(crs.common.v1.rule)` options on its fields.

The contract declares each field once, with what a client may put in it. This module turns that
declaration into plain objects: `rules()` gives the rules a service checks its input against (so its
domain needs no protobuf), and `json_schema()` gives the JSON Schema of the message in protobuf's JSON
mapping, with the same rules, for an OpenAPI document.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crs.common.v1 import fields_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

TIMESTAMP = "google.protobuf.Timestamp"
_INTEGERS = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SFIXED32,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_FIXED32,
}
# protobuf's JSON mapping writes 64-bit integers as strings, so that JavaScript does not round them.
_LONGS = {
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_SFIXED64,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_FIXED64,
}
_NUMBERS = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}


@dataclass(frozen=True)
class Rule:
    """What a client may put in one field; `fields` holds the rules of a nested message's own fields."""

    name: str
    kind: str  # text, integer, number, boolean, timestamp, message, enum
    writable: bool = False
    required: bool = False
    max_length: int = 0
    format: str = ""
    one_of: tuple[str, ...] = ()
    default: str = ""
    keep_spacing: bool = False
    repeated: bool = False
    fields: dict[str, Rule] = field(default_factory=dict)


def _kind(descriptor: FieldDescriptor) -> str:
    if descriptor.type == FieldDescriptor.TYPE_MESSAGE:
        return "timestamp" if descriptor.message_type.full_name == TIMESTAMP else "message"
    if descriptor.type in _INTEGERS or descriptor.type in _LONGS:
        return "integer"
    if descriptor.type in _NUMBERS:
        return "number"
    if descriptor.type == FieldDescriptor.TYPE_BOOL:
        return "boolean"
    if descriptor.type == FieldDescriptor.TYPE_ENUM:
        return "enum"
    return "text"


def _is_repeated(descriptor: FieldDescriptor) -> bool:
    return descriptor.is_repeated


def rules(message: Descriptor) -> dict[str, Rule]:
    """Every field of `message`, by name, with its declared rule (no option: read-only, no limits)."""
    found: dict[str, Rule] = {}
    for descriptor in message.fields:
        options = descriptor.GetOptions()
        declared = options.Extensions[fields_pb2.rule] if options.HasExtension(fields_pb2.rule) else None
        kind = _kind(descriptor)
        nested = rules(descriptor.message_type) if kind == "message" else {}
        if declared is None:
            found[descriptor.name] = Rule(
                descriptor.name, kind, repeated=_is_repeated(descriptor), fields=nested
            )
            continue
        found[descriptor.name] = Rule(
            name=descriptor.name,
            kind=kind,
            writable=declared.writable,
            required=declared.required,
            max_length=declared.max_length,
            format=declared.format,
            one_of=tuple(declared.one_of),
            default=declared.default,
            keep_spacing=declared.keep_spacing,
            repeated=_is_repeated(descriptor),
            fields=nested,
        )
    return found


def writable(message: Descriptor) -> frozenset[str]:
    """The names of the fields a client may set."""
    return frozenset(name for name, rule in rules(message).items() if rule.writable)


_FORMATS = {"date": "date", "date-time": "date-time", "email": "email", "uuid": "uuid"}


def _value_schema(descriptor: FieldDescriptor, rule: Rule, *, for_input: bool, seen: tuple) -> dict:
    if rule.kind == "message":
        return _message_schema(descriptor.message_type, for_input=for_input, seen=seen)
    if rule.kind == "timestamp":
        return {"type": "string", "format": "date-time"}
    if rule.kind == "integer":
        if descriptor.type in _LONGS:
            return {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"}
        return {"type": "integer", "format": "int32"}
    if rule.kind == "number":
        return {"type": "number"}
    if rule.kind == "boolean":
        return {"type": "boolean"}
    if rule.kind == "enum":
        return {"type": "string", "enum": [v.name for v in descriptor.enum_type.values]}
    schema: dict = {"type": "string"}
    if rule.max_length:
        schema["maxLength"] = rule.max_length
    if rule.format in _FORMATS:
        schema["format"] = _FORMATS[rule.format]
    elif rule.format:
        schema["x-crs-format"] = rule.format
    if rule.one_of:
        # An empty value means "not given": the default, or nothing when there is none.
        schema["enum"] = list(rule.one_of) if rule.required else ["", *rule.one_of]
    if rule.default:
        schema["default"] = rule.default
    return schema


def _message_schema(message: Descriptor, *, for_input: bool, seen: tuple) -> dict:
    if message.full_name in seen:
        raise ValueError(f"{message.full_name} contains itself; a JSON Schema for it needs $ref")
    seen = (*seen, message.full_name)
    field_rules = rules(message)
    properties: dict[str, dict] = {}
    required: list[str] = []
    for descriptor in message.fields:
        rule = field_rules[descriptor.name]
        if for_input and not rule.writable:
            continue
        value = _value_schema(descriptor, rule, for_input=for_input, seen=seen)
        if rule.repeated:
            value = {"type": "array", "items": value}
        if not for_input and not rule.writable:
            value["readOnly"] = True
        properties[descriptor.name] = value
        if rule.required and for_input:
            required.append(descriptor.name)
    schema: dict = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def json_schema(message: Descriptor, *, for_input: bool = False) -> dict:
    """The JSON Schema of `message` in protobuf's JSON mapping (field names as declared).

    With `for_input`, only the writable fields, as a client sends them on create; otherwise every field,
    the ones a client may not set marked readOnly.
    """
    schema = _message_schema(message, for_input=for_input, seen=())
    schema["title"] = message.name
    return schema
