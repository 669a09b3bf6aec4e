"""JSON shapes derived from the proto descriptors: a message's JSON Schema and the fields a client may write.

The fields of a message and their `(crs.common.v1.rule)` options are the one declaration of its shape
(protos/crs/common/v1/fields.proto); the console's JSON of a message is protobuf's JSON mapping with the
proto's field names, so its schema is read from the same descriptor.
"""

from __future__ import annotations

from typing import Any

from crs.common.v1 import fields_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

SCALARS = {
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer", "format": "int32"},
    # protobuf's JSON mapping writes 64-bit integers as strings; it reads either.
    FieldDescriptor.TYPE_INT64: {"type": ["string", "integer"], "format": "int64"},
    FieldDescriptor.TYPE_DOUBLE: {"type": "number"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number"},
}
WELL_KNOWN = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.FieldMask": {"type": "string"},
}


def _repeated(field: FieldDescriptor) -> bool:
    # Newer protobuf releases name it is_repeated; older ones only have label.
    repeated = getattr(field, "is_repeated", None)
    return repeated if repeated is not None else field.label == FieldDescriptor.LABEL_REPEATED


def rule(field: FieldDescriptor) -> fields_pb2.FieldRule:
    return field.GetOptions().Extensions[fields_pb2.rule]


def writable_fields(descriptor: Descriptor) -> set[str]:
    return {f.name for f in descriptor.fields if rule(f).writable}


def _field_schema(field: FieldDescriptor, definitions: dict[str, Any]) -> dict[str, Any]:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        name = field.message_type.full_name
        if name in WELL_KNOWN:
            schema = dict(WELL_KNOWN[name])
        else:
            definitions.setdefault(field.message_type.name, None)
            if definitions[field.message_type.name] is None:
                definitions[field.message_type.name] = json_schema(field.message_type, definitions)
            schema = {"$ref": f"#/components/schemas/{field.message_type.name}"}
    elif field.type == FieldDescriptor.TYPE_ENUM:
        schema = {"type": "string", "enum": [v.name for v in field.enum_type.values]}
    else:
        schema = dict(SCALARS.get(field.type, {"type": "string"}))
    given = rule(field)
    if given.max_length:
        schema["maxLength"] = given.max_length
    if given.format and "format" not in schema:
        schema["format"] = given.format
    if given.one_of:
        schema["enum"] = list(given.one_of) + ([""] if not given.required else [])
    if given.default:
        schema["default"] = given.default
    if not given.writable and "$ref" not in schema:
        schema["readOnly"] = True
    if _repeated(field):
        return {"type": "array", "items": schema}
    return schema


def json_schema(descriptor: Descriptor, definitions: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON Schema of `descriptor`'s JSON mapping; nested messages are added to `definitions`."""
    definitions = {} if definitions is None else definitions
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {f.name: _field_schema(f, definitions) for f in descriptor.fields},
    }
    required = [f.name for f in descriptor.fields if rule(f).required]
    if required:
        schema["x-required-on-create"] = required
    return schema
