"""The case's shape read from casework.proto: the rules the service checks, and the JSON Schema the console serves."""

from __future__ import annotations

import jsonschema
from crs.contacts.v1 import casework_pb2 as pb

from services.runtime import protoschema

CASE = pb.Case.DESCRIPTOR


def test_the_declared_rules_come_out_as_plain_objects():
    rules = protoschema.rules(CASE)
    assert rules["channel"].one_of == ("phone", "email", "letter", "chat", "web")
    assert rules["channel"].default == "phone" and rules["channel"].writable
    assert rules["issue_code"].required and rules["issue_code"].max_length == 200
    assert rules["verbatim"].keep_spacing and rules["verbatim"].max_length == 20000
    assert rules["occurred_at"].kind == "timestamp" and rules["occurred_at"].writable
    assert rules["product"].fields["lot_code"].max_length == 64
    assert rules["product"].fields["best_by"].format == "date"
    assert rules["reporter"].fields["email"].format == "email"
    assert not rules["status"].writable and not rules["escalated"].writable
    assert rules["call_ids"].repeated


def test_the_writable_fields_are_the_ones_marked_so():
    assert protoschema.writable(CASE) == {
        "consumer_id",
        "channel",
        "direction",
        "reporter",
        "product",
        "issue_code",
        "severity",
        "verbatim",
        "notes",
        "language",
        "occurred_at",
    }


def test_the_input_schema_accepts_a_good_case_and_names_what_is_wrong_in_a_bad_one():
    schema = protoschema.json_schema(CASE, for_input=True)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    good = {
        "issue_code": "complaint.packaging.leaking",
        "channel": "email",
        "product": {"sku": "FL-1L", "lot_code": "B77", "best_by": "2025-03-01"},
        "occurred_at": "2026-11-23T09:30:00Z",
    }
    assert list(validator.iter_errors(good)) == []
    for bad, where in [
        ({"channel": "fax", "issue_code": "q"}, "channel"),
        ({"channel": "phone"}, "issue_code"),  # required on create
        ({"issue_code": "q", "product": {"lot_code": "L" * 65}}, "lot_code"),
        ({"issue_code": "q", "status": "closed"}, "status"),  # not writable
        ({"issue_code": "q", "verbatim": 5}, "verbatim"),
    ]:
        errors = list(validator.iter_errors(bad))
        assert errors, bad
        assert any(where in f"{list(e.path)} {e.message}" for e in errors), (bad, errors)


def test_the_full_schema_marks_what_a_client_cannot_set_and_follows_the_json_mapping():
    schema = protoschema.json_schema(CASE)
    properties = schema["properties"]
    assert properties["status"]["readOnly"] is True and "readOnly" not in properties["notes"]
    assert properties["reference"] == {
        "type": "string",
        "format": "int64",
        "pattern": "^-?[0-9]+$",
        "readOnly": True,
    }
    assert properties["call_ids"]["type"] == "array"
    assert properties["occurred_at"] == {"type": "string", "format": "date-time"}
    assert properties["severity"]["enum"] == ["", "low", "medium", "high", "critical"]
    assert properties["language"]["default"] == "en"
    assert "required" not in schema
    assert schema["title"] == "Case"


def test_a_message_without_rules_is_read_only_throughout():
    rules = protoschema.rules(pb.LotCluster.DESCRIPTOR)
    assert set(rules) == {"product_sku", "lot_code", "contacts", "first_at", "last_at", "issue_codes"}
    assert not any(r.writable for r in rules.values())
    assert protoschema.json_schema(pb.LotCluster.DESCRIPTOR, for_input=True)["properties"] == {}
