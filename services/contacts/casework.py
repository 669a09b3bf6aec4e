"""Casework: capture a contact as a coded case, and work it through the workflow.

Every change is written with a contact event (who, when, what, before and after) in the same transaction,
and with its outbox event, so the timeline, the case and the bus never disagree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import psycopg
from crs.contacts.v1 import casework_pb2 as pb
from google.protobuf import json_format

from services.contacts import case_input
from services.contacts.capture import GroupCapture, case_event, creation_records
from services.contacts.case_store import CaseRepository, CaseStore
from services.contacts.codes import SEVERITIES, CachedCodeBook, CodeBook, severity_rank
from services.contacts.validation import ValidationError

SOURCE = "contacts"
# Which stage may follow which. A status may also change within its stage (in_progress -> referred_qa).
TRANSITIONS = {
    "new": {"in_progress", "awaiting_consumer", "awaiting_fulfillment", "resolved", "closed"},
    "in_progress": {"in_progress", "awaiting_consumer", "awaiting_fulfillment", "resolved"},
    "awaiting_consumer": {"awaiting_consumer", "in_progress", "awaiting_fulfillment", "resolved", "closed"},
    "awaiting_fulfillment": {"awaiting_fulfillment", "in_progress", "awaiting_consumer", "resolved"},
    "resolved": {"closed", "in_progress"},
    "closed": set(),
}
OPEN_STAGES = ("new", "in_progress", "awaiting_consumer", "awaiting_fulfillment")
EDITABLE = {
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
MAX_REASON = 1000


class NotFound(LookupError):
    pass


class Conflict(RuntimeError):
    """The change does not fit the case as it is now: a transition not allowed."""


class StaleVersion(Conflict):
    """The case changed since the caller read it."""


def allowed(from_stage: str, to_stage: str) -> bool:
    return to_stage in TRANSITIONS.get(from_stage, set())


def _iso(value) -> str | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def present(row: dict, book: CodeBook) -> dict:
    """A case as the API shows it (the JSON mapping of casework.proto's Case)."""
    created = row["created_at"]
    first = row["first_response_at"]
    resolved = row["resolved_at"]
    return {
        "id": row["id"],
        "reference": row["reference"],
        "consumer_id": row["consumer_id"] or "",
        "channel": row["channel"],
        "direction": row["direction"],
        "reporter": {
            "name": row["reporter_name"],
            "email": row["reporter_email"],
            "phone": row["reporter_phone"],
        },
        "product": {
            "sku": row["product_sku"],
            "upc": row["product_upc"],
            "name": row["product_name"],
            "lot_code": row["lot_code"],
            "best_by": _iso(row["best_by"]) or "",
            "produced_on": _iso(row["produced_on"]) or "",
            "purchase_store": row["purchase_store"],
            "purchase_location": row["purchase_location"],
            "purchased_on": _iso(row["purchased_on"]) or "",
        },
        "issue_code": row["issue_code"] or "",
        "issue_path": book.path(row["issue_code"]),
        "severity": row["severity"] or "",
        "status": row["status"],
        "stage": book.stage_of(row["status"]),
        "action_codes": list(row["action_codes"]),
        "verbatim": row["verbatim"],
        "notes": row["notes"],
        "language": row["language"],
        "assignee": row["assignee"],
        "escalated": row["escalated"],
        "escalation_reason": row["escalation_reason"],
        "call_ids": list(row["call_ids"]) + ([row["call_id"]] if row["call_id"] else []),
        "summary": row["summary"],
        "created_by": row["created_by"],
        "occurred_at": _iso(row["occurred_at"]),
        "created_at": _iso(created),
        "updated_at": _iso(row["updated_at"]),
        "first_response_at": _iso(first),
        "resolved_at": _iso(resolved),
        "closed_at": _iso(row["closed_at"]),
        "response_due_at": _iso(row["response_due_at"]),
        "resolution_due_at": _iso(row["resolution_due_at"]),
        "sla_breached_at": _iso(row["sla_breached_at"]),
        "sla_breach": row["sla_breach"],
        "version": row["version"],
        "time_to_first_response_seconds": (first - created).total_seconds() if first else 0.0,
        "time_to_resolution_seconds": (resolved - created).total_seconds() if resolved else 0.0,
    }


def to_pb(case: dict) -> pb.Case:
    message = pb.Case()
    json_format.ParseDict(
        {k: v for k, v in case.items() if v is not None}, message, ignore_unknown_fields=True
    )
    return message


def summary_of(values: dict, book: CodeBook) -> str:
    parts = [book.path(values.get("issue_code"))]
    product = values.get("product_name") or values.get("product_sku")
    if product:
        parts.append(product + (f", lot {values['lot_code']}" if values.get("lot_code") else ""))
    return " — ".join(p for p in parts if p)[:300]


def _coded(values: dict, book: CodeBook, *, created_at: datetime) -> dict:
    """Severity from the code (its floor), and due times from the SLA policy that fits."""
    issue = book.issue(values["issue_code"])
    severity = values.get("severity") or issue["severity"]
    if severity_rank(issue["severity"]) > severity_rank(severity):
        severity = issue["severity"]
    if book.escalates(values["issue_code"]):
        severity = SEVERITIES[-1]
    values["severity"] = severity
    policy = book.policy_for(values["issue_code"], severity)
    if policy:
        values["response_due_at"] = created_at + policy.first_response
        values["resolution_due_at"] = created_at + policy.resolution
    return values


def _changes(before: dict, after: dict, fields) -> dict:
    return {
        f: {"before": _iso(before.get(f)), "after": _iso(after.get(f))}
        for f in fields
        if before.get(f) != after.get(f)
    }


class Casework:
    """The casework operations. Keyword-only; each runs in one transaction and returns the case as shown."""

    def __init__(self, *, store: CaseStore, codes: CachedCodeBook):
        self.store = store
        self.codes = codes
        self.capture = GroupCapture(store=store, present=self._present, one_at_a_time=self._create_one)

    async def _present(self, row: dict) -> dict:
        return present(row, await self.codes.get())

    async def _event(self, repo: CaseRepository, type_: str, message: type, case: dict, **fields) -> None:
        await repo.add_outbox(case_event(type_, message, case, **fields))

    async def _locked(self, repo: CaseRepository, contact_id: str) -> dict:
        contact_id = case_input.an_id(contact_id, "id")
        if contact_id is None:
            raise ValidationError("id: which case?")
        row = await repo.get(contact_id, lock=True)
        if row is None:
            raise NotFound(f"no case {contact_id}")
        return row

    async def get(self, *, contact_id: str) -> dict:
        """One case as shown."""
        contact_id = case_input.an_id(contact_id, "id")
        row = await self.store.get(contact_id) if contact_id else None
        if row is None:
            raise NotFound(f"no case {contact_id}")
        return present(row, await self.codes.get())

    async def create(self, *, data: dict, actor: str, call_id: str | None = None) -> dict:
        """Capture a case; with a call id, the call's own contact becomes the case, or the call is linked."""
        book = await self.codes.get()
        values = case_input.clean_fields(data)
        call_id = case_input.call_id(call_id) if call_id else None
        now = datetime.now(UTC)
        values["occurred_at"] = values.get("occurred_at") or now
        values = _coded(values, book, created_at=now)
        values["summary"] = summary_of(values, book)
        values["created_by"] = actor
        values["status"] = "new"
        reason = None
        if book.escalates(values["issue_code"]):
            reason = f"Health and safety: {book.path(values['issue_code'])}"
            values.update(escalated=True, escalation_reason=reason, action_codes=["escalated"])
        if call_id is None:
            return await self.capture.capture(values=values, actor=actor, escalation_reason=reason)
        return await self._create_one(values, actor, reason, call_id=call_id)

    async def _create_one(
        self, values: dict, actor: str, escalation_reason: str | None, *, call_id: str | None = None
    ) -> dict:
        """Capture one case in a transaction of its own."""
        book = await self.codes.get()
        try:
            async with self.store.transaction() as repo:
                existing = await repo.uncoded_call(call_id) if call_id else None
                if existing:
                    values.pop("occurred_at")
                    if existing["consumer_id"] and not values.get("consumer_id"):
                        values.pop("consumer_id")
                    # The call filed by telephony becomes the case; its recording comes with it.
                    row = await repo.update(existing["id"], values)
                else:
                    values.pop("id", None)
                    row = await repo.insert(values)
                    if call_id:
                        await repo.link_call(row["id"], call_id)
                        row = await repo.get(row["id"])
                case = present(row, book)
                timeline, events = creation_records(case, actor=actor, escalation_reason=escalation_reason)
                for entry in timeline:
                    await repo.add_event(
                        row["id"], actor=entry.actor, kind=entry.kind, changes=entry.changes, note=entry.note
                    )
                for event in events:
                    await repo.add_outbox(event)
        except psycopg.errors.ForeignKeyViolation:
            raise ValidationError("consumer_id: no consumer has this id") from None
        return case

    async def update(
        self,
        *,
        contact_id: str,
        data: dict,
        fields: set[str],
        actor: str,
        expected_version: int | None = None,
    ) -> dict:
        """Change the named fields of a case."""
        unknown = fields - EDITABLE
        if unknown:
            raise ValidationError(f"update_mask: cannot change {', '.join(sorted(unknown))} this way")
        if not fields:
            raise ValidationError("update_mask: name the fields to change")
        book = await self.codes.get()
        values = case_input.clean_fields(data, only=fields)
        try:
            async with self.store.transaction() as repo:
                before = await self._locked(repo, contact_id)
                if expected_version and before["version"] != expected_version:
                    raise StaleVersion(f"the case changed meanwhile (version {before['version']}); reload it")
                if "issue_code" in values or "severity" in values:
                    values.setdefault("issue_code", before["issue_code"])
                    values.setdefault("severity", before["severity"])
                    if values["issue_code"] != before["issue_code"]:
                        book.issue(values["issue_code"])
                    values = _coded(values, book, created_at=before["created_at"])
                merged = {**before, **values}
                values["summary"] = summary_of(merged, book)
                changes = _changes(before, merged, values.keys() - {"search_config"})
                if not changes:
                    return present(before, book)
                row = await repo.update(before["id"], values)
                await repo.add_event(row["id"], actor=actor, kind="updated", changes=changes)
                case = present(row, book)
                await self._event(
                    repo,
                    "contact_updated",
                    pb.ContactUpdated,
                    case,
                    changed_fields=sorted(changes),
                    actor=actor,
                )
                if book.escalates(row["issue_code"]) and not before["escalated"]:
                    case = await self._escalate(
                        repo,
                        row,
                        book,
                        reason=f"Health and safety: {book.path(row['issue_code'])}",
                        actor="system",
                    )
        except psycopg.errors.ForeignKeyViolation:
            raise ValidationError("consumer_id: no consumer has this id") from None
        return case

    async def change_status(self, *, contact_id: str, status: str, note: str, actor: str) -> dict:
        """Move a case to `status`, if the workflow allows it from where it is."""
        book = await self.codes.get()
        if not isinstance(status, str):
            raise ValidationError("status: which status?")
        target = book.status(status)
        note = case_input.text(note, "note", limit=MAX_REASON, strip=False)
        async with self.store.transaction() as repo:
            before = await self._locked(repo, contact_id)
            if before["issue_code"] is None:
                raise Conflict("code the contact first: it has no issue code yet")
            stage = book.stage_of(before["status"])
            if status == before["status"] or not allowed(stage, target["stage"]):
                raise Conflict(f"a case cannot go from {before['status']} to {status}")
            now = datetime.now(UTC)
            values: dict = {"status": status}
            if before["first_response_at"] is None and target["stage"] != "new":
                values["first_response_at"] = now
            if target["stage"] == "resolved":
                values["resolved_at"] = now
            elif target["stage"] == "closed":
                values["closed_at"] = now
                values["resolved_at"] = before["resolved_at"] or now
            elif stage == "resolved":
                values["resolved_at"] = None  # reopened
            row = await repo.update(before["id"], values)
            await repo.add_event(
                row["id"],
                actor=actor,
                kind="status",
                changes=_changes(before, {**before, **values}, values.keys()),
                note=note,
            )
            case = present(row, book)
            await self._event(
                repo, "contact_updated", pb.ContactUpdated, case, changed_fields=sorted(values), actor=actor
            )
            if target["stage"] == "resolved" or (target["stage"] == "closed" and not before["resolved_at"]):
                await self._event(
                    repo,
                    "contact_resolved",
                    pb.ContactResolved,
                    case,
                    time_to_resolution_seconds=case["time_to_resolution_seconds"],
                )
        return case

    async def _escalate(
        self, repo: CaseRepository, before: dict, book: CodeBook, *, reason: str, actor: str
    ) -> dict:
        actions = list(before["action_codes"])
        if "escalated" not in actions:
            actions.append("escalated")
        values = {"escalated": True, "escalation_reason": reason, "assignee": "", "action_codes": actions}
        row = await repo.update(before["id"], values)
        await repo.add_event(
            row["id"],
            actor=actor,
            kind="escalated",
            changes=_changes(before, {**before, **values}, values.keys()),
            note=reason,
        )
        case = present(row, book)
        await self._event(repo, "contact_escalated", pb.ContactEscalated, case, reason=reason, actor=actor)
        return case

    async def escalate(self, *, contact_id: str, reason: str, actor: str) -> dict:
        """Send a case to the supervisors' queue, with the reason."""
        reason = case_input.text(reason, "reason", limit=MAX_REASON)
        if not reason:
            raise ValidationError("reason: say why the case needs a supervisor")
        book = await self.codes.get()
        async with self.store.transaction() as repo:
            before = await self._locked(repo, contact_id)
            if book.stage_of(before["status"]) not in OPEN_STAGES:
                raise Conflict("only an open case can be escalated; reopen it first")
            if before["escalated"] and not before["assignee"]:
                raise Conflict("the case is already in the supervisors' queue")
            return await self._escalate(repo, before, book, reason=reason, actor=actor)

    async def assign(self, *, contact_id: str, assignee: str, actor: str) -> dict:
        """Give a case to someone (an empty assignee puts it back in its queue)."""
        assignee = case_input.text(assignee, "assignee", limit=64)
        if assignee:
            assignee = case_input.actor(assignee, "")
        book = await self.codes.get()
        async with self.store.transaction() as repo:
            before = await self._locked(repo, contact_id)
            if before["assignee"] == assignee:
                return present(before, book)
            row = await repo.update(before["id"], {"assignee": assignee})
            await repo.add_event(
                row["id"],
                actor=actor,
                kind="assigned",
                changes={"assignee": {"before": before["assignee"], "after": assignee}},
            )
            case = present(row, book)
            await self._event(
                repo, "contact_updated", pb.ContactUpdated, case, changed_fields=["assignee"], actor=actor
            )
        return case

    async def add_action(self, *, contact_id: str, action_code: str, note: str, actor: str) -> dict:
        """Record an action taken (replied, coupon sent, sample requested...)."""
        book = await self.codes.get()
        if not isinstance(action_code, str):
            raise ValidationError("action_code: which action?")
        action = book.action(action_code)
        note = case_input.text(note, "note", limit=MAX_REASON, strip=False)
        async with self.store.transaction() as repo:
            before = await self._locked(repo, contact_id)
            values: dict = {"action_codes": [*before["action_codes"], action_code]}
            if action["is_response"] and before["first_response_at"] is None:
                values["first_response_at"] = datetime.now(UTC)
            row = await repo.update(before["id"], values)
            await repo.add_event(
                row["id"],
                actor=actor,
                kind="action",
                changes=_changes(before, {**before, **values}, values.keys()),
                note=note or action["label"],
            )
            case = present(row, book)
            await self._event(
                repo, "contact_updated", pb.ContactUpdated, case, changed_fields=sorted(values), actor=actor
            )
        return case

    async def link_call(self, *, contact_id: str, call_id: str, actor: str) -> dict:
        """Link a call (and so its recording) to a case."""
        call_id = case_input.call_id(call_id)
        book = await self.codes.get()
        async with self.store.transaction() as repo:
            before = await self._locked(repo, contact_id)
            if call_id in before["call_ids"] or call_id == before["call_id"]:
                return present(before, book)
            await repo.link_call(before["id"], call_id)
            row = await repo.update(before["id"], {})
            await repo.add_event(
                row["id"],
                actor=actor,
                kind="call_linked",
                changes={"call_ids": {"before": None, "after": call_id}},
            )
            case = present(row, book)
            await self._event(
                repo, "contact_updated", pb.ContactUpdated, case, changed_fields=["call_ids"], actor=actor
            )
        return case

    async def timeline(self, *, contact_id: str) -> list[dict]:
        """Every event of a case, oldest first."""
        await self.get(contact_id=contact_id)
        return [
            {
                "id": e["id"],
                "occurred_at": _iso(e["occurred_at"]),
                "actor": e["actor"],
                "kind": e["kind"],
                "changes": e["changes"],
                "note": e["note"],
            }
            for e in await self.store.timeline(contact_id)
        ]
