"""The OpenAPI 3.0 document of the casework REST API, served at /api/openapi.json."""

from __future__ import annotations

import functools

from services.contacts.case_input import CHANNELS, DIRECTIONS
from services.contacts.codes import SEVERITIES, STAGES

STR = {"type": "string"}
DATE = {"type": "string", "format": "date", "example": "2024-05-01"}
TIME = {"type": "string", "format": "date-time", "nullable": True}
ERROR = {
    "description": "what is wrong, for a person",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def _obj(properties: dict, required: list[str] | None = None, extra: bool = False) -> dict:
    schema = {"type": "object", "properties": properties, "additionalProperties": extra}
    if required:
        schema["required"] = required
    return schema


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _op(
    summary: str,
    *,
    ok: dict,
    body: dict | None = None,
    params: list | None = None,
    status: str = "200",
    errors: tuple[str, ...] = ("400", "401"),
) -> dict:
    op: dict = {"summary": summary, "responses": {status: {"description": "done", **_json(ok)}}}
    for code in errors:
        op["responses"][code] = ERROR
    if body is not None:
        op["requestBody"] = {"required": True, **_json(body)}
    if params:
        op["parameters"] = params
    return op


def _q(name: str, schema: dict, description: str = "") -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
KIND = {
    "name": "kind",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": ["issue", "action", "status"]},
}
CASE_LIST = _obj({"cases": {"type": "array", "items": _ref("Case")}})


@functools.cache
def document() -> dict:
    product = _obj(
        {
            "sku": {"type": "string", "maxLength": 64},
            "upc": {"type": "string", "maxLength": 64},
            "name": {"type": "string", "maxLength": 200},
            "lot_code": {"type": "string", "maxLength": 64},
            "best_by": DATE,
            "produced_on": DATE,
            "purchase_store": {"type": "string", "maxLength": 200},
            "purchase_location": {"type": "string", "maxLength": 200},
            "purchased_on": DATE,
        }
    )
    reporter = _obj(
        {
            "name": {"type": "string", "maxLength": 200},
            "email": {"type": "string", "format": "email"},
            "phone": {"type": "string", "maxLength": 32},
        }
    )
    editable = {
        "consumer_id": {"type": "string", "format": "uuid", "description": "empty for an anonymous contact"},
        "channel": {"type": "string", "enum": list(CHANNELS)},
        "direction": {"type": "string", "enum": list(DIRECTIONS)},
        "reporter": reporter,
        "product": product,
        "issue_code": {"type": "string", "example": "complaint.quality.foreign_object.plastic"},
        "severity": {"type": "string", "enum": list(SEVERITIES)},
        "verbatim": {
            "type": "string",
            "maxLength": 20000,
            "description": "the consumer's words, kept exactly",
        },
        "notes": {"type": "string", "maxLength": 20000},
        "language": {"type": "string", "example": "fr-CA"},
        "occurred_at": {"type": "string", "format": "date-time"},
    }
    case = _obj(
        {
            **editable,
            "id": STR,
            "reference": {"type": "integer"},
            "issue_path": STR,
            "status": STR,
            "stage": {"type": "string", "enum": list(STAGES)},
            "action_codes": {"type": "array", "items": STR},
            "assignee": STR,
            "escalated": {"type": "boolean"},
            "escalation_reason": STR,
            "call_ids": {"type": "array", "items": STR},
            "summary": STR,
            "created_by": STR,
            "created_at": TIME,
            "updated_at": TIME,
            "first_response_at": TIME,
            "resolved_at": TIME,
            "closed_at": TIME,
            "response_due_at": TIME,
            "resolution_due_at": TIME,
            "sla_breached_at": TIME,
            "sla_breach": STR,
            "version": {"type": "integer"},
            "time_to_first_response_seconds": {"type": "number"},
            "time_to_resolution_seconds": {"type": "number"},
            "recordings": {
                "type": "array",
                "items": _obj(
                    {"call_id": STR, "url": STR, "duration_seconds": {"type": "number", "nullable": True}}
                ),
            },
        },
        extra=True,
    )
    new_case = _obj(
        {**editable, "call_id": {"type": "string", "description": "the call this contact came in on"}},
        required=["issue_code"],
    )
    code = _obj(
        {"code": STR, "label": STR, "active": {"type": "boolean"}, "position": {"type": "integer"}},
        extra=True,
    )
    code_in = _obj(
        {
            "label": {"type": "string", "minLength": 1, "maxLength": 120},
            "active": {"type": "boolean"},
            "position": {"type": "integer"},
            "severity": {"type": "string", "enum": list(SEVERITIES)},
            "auto_escalate": {"type": "boolean"},
            "is_response": {"type": "boolean"},
            "stage": {"type": "string", "enum": list(STAGES)},
        },
        required=["label"],
    )
    event = _obj(
        {
            "id": {"type": "integer"},
            "occurred_at": STR,
            "actor": STR,
            "kind": STR,
            "changes": {"type": "object"},
            "note": STR,
        },
        extra=True,
    )
    search_params = [
        _q("text", STR, "words from the verbatim; web-search syntax"),
        _q("language", STR, "stem the words in this language only"),
        _q("issue_code", STR, "this code and every code under it"),
        _q("product", STR, "SKU or UPC"),
        _q("lot_code", STR),
        _q("status", STR),
        _q("channel", {"type": "string", "enum": list(CHANNELS)}),
        _q("from", {"type": "string", "format": "date-time"}),
        _q("to", {"type": "string", "format": "date-time"}),
        _q("consumer_id", {"type": "string", "format": "uuid"}),
        _q("escalated_only", {"type": "boolean"}),
        _q("open_only", {"type": "boolean"}),
        _q("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
        _q("offset", {"type": "integer", "minimum": 0, "maximum": 10000}),
    ]
    with_id = [ID]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "CRS casework",
            "version": "1",
            "description": "Contacts coded as cases: capture, workflow, escalation, timeline, search, code tables.",
        },
        "components": {
            "securitySchemes": {
                "console": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a console token signed with CRS_CONSOLE_SESSION_SECRET",
                }
            },
            "schemas": {"Case": case, "NewCase": new_case, "Error": _obj({"error": STR}, ["error"])},
        },
        "security": [{"console": []}],
        "paths": {
            "/api/me": {
                "get": _op(
                    "who the token names",
                    ok=_obj({"username": STR, "display_name": STR, "role": STR}),
                    errors=("401",),
                )
            },
            "/api/codes/{kind}": {
                "get": {
                    **_op("a code table", ok=_obj({"codes": {"type": "array", "items": code}})),
                    "parameters": [KIND, _q("include_inactive", {"type": "boolean"})],
                }
            },
            "/api/codes/{kind}/{code}": {
                "put": {
                    **_op(
                        "add or change a code (deactivate with active=false)",
                        ok=code,
                        body=code_in,
                        errors=("400", "401", "403"),
                    ),
                    "parameters": [KIND, {"name": "code", "in": "path", "required": True, "schema": STR}],
                }
            },
            "/api/contacts": {
                "post": _op(
                    "capture a contact",
                    ok=_ref("Case"),
                    body=_ref("NewCase"),
                    status="201",
                    errors=("400", "401", "409"),
                ),
                "get": _op("search contacts", ok=CASE_LIST, params=search_params),
            },
            "/api/contacts/{id}": {
                "get": _op("a contact", ok=_ref("Case"), params=with_id, errors=("400", "401", "404")),
                "patch": _op(
                    "change fields of a contact",
                    ok=_ref("Case"),
                    params=with_id,
                    body=_obj({**editable, "version": {"type": "integer"}}),
                    errors=("400", "401", "404", "409"),
                ),
            },
            "/api/contacts/{id}/status": {
                "post": _op(
                    "move a contact through the workflow",
                    ok=_ref("Case"),
                    params=with_id,
                    body=_obj({"status": STR, "note": STR}, ["status"]),
                    errors=("400", "401", "404", "409"),
                )
            },
            "/api/contacts/{id}/escalate": {
                "post": _op(
                    "escalate to the supervisors' queue",
                    ok=_ref("Case"),
                    params=with_id,
                    body=_obj({"reason": {"type": "string", "minLength": 1, "maxLength": 1000}}, ["reason"]),
                    errors=("400", "401", "404", "409"),
                )
            },
            "/api/contacts/{id}/assign": {
                "post": _op(
                    "assign (or take) a contact",
                    ok=_ref("Case"),
                    params=with_id,
                    body=_obj({"assignee": STR}, ["assignee"]),
                    errors=("400", "401", "403", "404"),
                )
            },
            "/api/contacts/{id}/actions": {
                "post": _op(
                    "record an action taken",
                    ok=_ref("Case"),
                    params=with_id,
                    body=_obj({"action_code": STR, "note": STR}, ["action_code"]),
                    errors=("400", "401", "404"),
                )
            },
            "/api/contacts/{id}/calls": {
                "post": _op(
                    "link a call and its recording",
                    ok=_ref("Case"),
                    params=with_id,
                    body=_obj({"call_id": STR}, ["call_id"]),
                    errors=("400", "401", "404"),
                )
            },
            "/api/contacts/{id}/timeline": {
                "get": _op(
                    "every change, oldest first",
                    ok=_obj({"events": {"type": "array", "items": event}}),
                    params=with_id,
                    errors=("400", "401", "404"),
                )
            },
            "/api/queue": {
                "get": _op(
                    "the supervisors' queue: escalated, open",
                    ok=CASE_LIST,
                    params=[p for p in search_params if p["name"] not in ("escalated_only", "open_only")],
                )
            },
            "/api/early-warning": {
                "get": _op(
                    "products and lots with many complaints lately",
                    ok=_obj(
                        {
                            "days": {"type": "integer"},
                            "threshold": {"type": "integer"},
                            "clusters": {"type": "array", "items": {"type": "object"}},
                        }
                    ),
                    params=[
                        _q("days", {"type": "integer", "minimum": 1, "maximum": 365}),
                        _q("threshold", {"type": "integer", "minimum": 2, "maximum": 100000}),
                        _q("issue_code", STR),
                    ],
                )
            },
        },
    }
