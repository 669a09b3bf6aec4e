"""The case's shape as the contract declares it, and a Case in that shape.

casework.proto's field rules are read once here (services/runtime/protoschema.py) and handed to the
domain as plain objects, so the one declaration gives the input checks, the writable fields and, in the
console, the OpenAPI schema. A Case is shown in protobuf's JSON mapping of crs.contacts.v1.Case.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from crs.contacts.v1 import casework_pb2 as pb
from crs.contacts.v1 import inbox_pb2 as inbox_pb

from services.contacts.casework.domain.case import Case
from services.contacts.casework.domain.claims import Claim
from services.contacts.casework.domain.codes import CodeBook
from services.contacts.casework.domain.follow_ups import FollowUp
from services.contacts.casework.domain.regulatory import ReportClock
from services.runtime import protoschema

CASE_RULES = protoschema.rules(pb.Case.DESCRIPTOR)
WRITABLE = frozenset(name for name, rule in CASE_RULES.items() if rule.writable)


def _json(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _seconds(start: datetime | None, end: datetime | None) -> float:
    return (end - start).total_seconds() if start and end else 0.0


_TIMES = (
    "occurred_at",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "response_due_at",
    "resolution_due_at",
    "sla_breached_at",
)


def _open(case: Case) -> list:
    return sorted(case.open_fulfillments.items())


def case_json(case: Case, book: CodeBook) -> dict:
    """The case in the JSON mapping of Case (empty times left out, as protobuf leaves them out)."""
    shown = {
        "id": case.id,
        "reference": str(case.reference) if case.reference is not None else None,
        "consumer_id": case.consumer_id or "",
        "channel": case.channel,
        "direction": case.direction,
        "reporter": dict(vars(case.reporter)),
        "product": {k: (_json(v) if v is not None else "") for k, v in vars(case.product).items()},
        "issue_code": case.issue_code or "",
        "issue_path": book.path(case.issue_code),
        "severity": case.severity or "",
        "status": case.status,
        "stage": case.stage(book),
        "action_codes": list(case.action_codes),
        "verbatim": case.verbatim,
        "notes": case.notes,
        "language": case.language,
        "assignee": case.assignee,
        "team": case.team,
        "escalated": case.escalated,
        "escalation_reason": case.escalation_reason,
        "call_ids": case.all_call_ids,
        "summary": case.summary,
        "created_by": case.created_by,
        "sla_breach": case.sla_breach,
        "version": case.version,
        "time_to_first_response_seconds": _seconds(case.created_at, case.first_response_at),
        "time_to_resolution_seconds": _seconds(case.created_at, case.resolved_at),
        "open_fulfillments": [
            {"fulfillment_id": fid, "kind": f.kind, "state": f.state} for fid, f in _open(case)
        ],
    }
    for name in _TIMES:
        shown[name] = _json(getattr(case, name))
    return {k: v for k, v in shown.items() if v is not None}


def case_pb(case: Case, book: CodeBook) -> pb.Case:
    """The case as the API returns it (built field by field: intake returns one per capture)."""
    product = case.product
    message = pb.Case(
        id=case.id or "",
        reference=case.reference or 0,
        consumer_id=case.consumer_id or "",
        channel=case.channel,
        direction=case.direction,
        reporter=pb.Reporter(name=case.reporter.name, email=case.reporter.email, phone=case.reporter.phone),
        product=pb.Product(
            sku=product.sku,
            upc=product.upc,
            name=product.name,
            lot_code=product.lot_code,
            best_by=_json(product.best_by) or "",
            produced_on=_json(product.produced_on) or "",
            purchase_store=product.purchase_store,
            purchase_location=product.purchase_location,
            purchased_on=_json(product.purchased_on) or "",
        ),
        issue_code=case.issue_code or "",
        issue_path=book.path(case.issue_code),
        severity=case.severity or "",
        status=case.status,
        stage=case.stage(book),
        action_codes=case.action_codes,
        verbatim=case.verbatim,
        notes=case.notes,
        language=case.language,
        assignee=case.assignee,
        team=case.team,
        escalated=case.escalated,
        escalation_reason=case.escalation_reason,
        call_ids=case.all_call_ids,
        summary=case.summary,
        created_by=case.created_by,
        sla_breach=case.sla_breach,
        version=case.version,
        time_to_first_response_seconds=_seconds(case.created_at, case.first_response_at),
        time_to_resolution_seconds=_seconds(case.created_at, case.resolved_at),
        open_fulfillments=[
            pb.OpenFulfillment(fulfillment_id=fid, kind=f.kind, state=f.state) for fid, f in _open(case)
        ],
    )
    for name in _TIMES:
        value = getattr(case, name)
        if value is not None:
            getattr(message, name).FromDatetime(value)
    return message


def _stamped(message, **times) -> None:
    for name, value in times.items():
        if value is not None:
            getattr(message, name).FromDatetime(value)


def follow_up_pb(follow_up: FollowUp, *, reference: int = 0) -> inbox_pb.FollowUp:
    message = inbox_pb.FollowUp(
        id=follow_up.id,
        case_id=follow_up.case_id,
        case_reference=reference,
        assignee=follow_up.assignee,
        text=follow_up.text,
        state=follow_up.state,
        created_by=follow_up.created_by,
        closed_by=follow_up.closed_by,
    )
    _stamped(
        message,
        due_at=follow_up.due_at,
        created_at=follow_up.created_at,
        closed_at=follow_up.closed_at,
        reminded_at=follow_up.reminded_at,
    )
    return message


def claim_pb(claim: Claim | None, case_id: str = "") -> inbox_pb.CaseClaim:
    if claim is None:
        return inbox_pb.CaseClaim(case_id=case_id)
    message = inbox_pb.CaseClaim(case_id=claim.case_id, agent=claim.agent)
    _stamped(message, claimed_at=claim.claimed_at, expires_at=claim.expires_at)
    return message


def _flat_names(descriptor, prefix: str = "") -> list[str]:
    names = []
    for field in descriptor.fields:
        if field.message_type is None:
            names.append(prefix + field.name)
        elif field.message_type.name in ("Product", "Reporter"):
            names.extend(_flat_names(field.message_type, f"{prefix}{field.name}."))
    return names


# What a regime's form may ask for: every plain field of the case, its product and reporter, by their
# contract names, and the two times of the clock itself.
FORM_FIELDS = (*_flat_names(pb.Case.DESCRIPTOR), "received_at", "report_due_at")


def clock_pb(clock: ReportClock, now: datetime) -> pb.RegulatoryClock:
    regime = clock.regime
    message = pb.RegulatoryClock(
        regime=regime.code,
        regime_name=regime.name,
        authority=regime.authority,
        form=regime.form,
        deadline=str(regime.deadline),
        state=clock.state(now),
    )
    _stamped(message, received_at=clock.received_at, due_at=clock.due_at, warn_at=clock.warn_at)
    if clock.filing is not None:
        message.filing.reported_by = clock.filing.reported_by
        message.filing.reference = clock.filing.reference
        message.filing.reported_at.FromDatetime(clock.filing.reported_at)
    return message


def form_values(case: Case, book: CodeBook, clock: ReportClock) -> list[tuple[str, str]]:
    """The values of the regime's form fields for the case, in the form's order, as text."""
    shown = case_json(case, book)
    shown.update(received_at=_json(clock.received_at), report_due_at=_json(clock.due_at))
    values = []
    for name in clock.regime.form_fields:
        value = shown
        for part in name.split("."):
            value = value.get(part, "") if isinstance(value, dict) else ""
        if isinstance(value, bool):
            value = "yes" if value else "no"
        values.append((name, ", ".join(value) if isinstance(value, list) else str(value)))
    return values
