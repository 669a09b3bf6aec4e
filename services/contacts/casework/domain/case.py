"""The Case: a contact coded with a product and an issue, worked through a fixed workflow.

Its methods enforce the workflow's rules and record what happened twice over: a timeline entry (who,
when, what, before and after) and an event for the bus. The service writes both with the case in one
transaction, so the timeline, the case and the bus never disagree. A call telephony filed is a case
with no issue code yet: an uncoded contact, which an agent codes during or after the call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import datetime

from services.contacts.casework.domain.codes import SEVERITIES, CodeBook, severity_rank
from services.contacts.casework.domain.fields import MAX_NOTE, a_call_id, search_config, text
from services.contacts.casework.domain.fulfillments import (
    AWAITING,
    WAITS_FROM,
    AwaitsFulfillment,
    CaseFulfillment,
)
from services.contacts.casework.domain.records import (
    PRODUCT_NAMES,
    REPORTER_NAMES,
    SYSTEM,
    Entry,
    Happened,
    Product,
    Reporter,
    changes_between,
    json_value,
)
from services.contacts.casework.exceptions import Forbidden, InvalidInput, Refused, StaleVersion

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
_NOT_FLAT = frozenset(
    {
        "reporter",
        "product",
        "timeline",
        "events",
        "calls_linked",
        "call_ids",
        "fulfillments",
        "fulfillments_heard",
    }
)
_ASSIGNEE = re.compile(r"^[A-Za-z0-9._@+-]{1,64}$")


def allowed(from_stage: str, to_stage: str) -> bool:
    return to_stage in TRANSITIONS.get(from_stage, set())


@dataclass(eq=False)
class Case(AwaitsFulfillment):
    id: str | None = None
    reference: int | None = None
    consumer_id: str | None = None
    channel: str = "phone"
    direction: str = "inbound"
    reporter: Reporter = field(default_factory=Reporter)
    product: Product = field(default_factory=Product)
    issue_code: str | None = None
    severity: str | None = None
    status: str = "new"
    action_codes: list[str] = field(default_factory=list)
    verbatim: str = ""
    notes: str = ""
    language: str = "en"
    assignee: str = ""
    escalated: bool = False
    escalation_reason: str = ""
    call_id: str | None = None  # the call this contact was filed for, when telephony filed it
    call_ids: list[str] = field(default_factory=list)  # calls linked to the case
    summary: str = ""
    created_by: str = SYSTEM
    team: str = ""  # the team of whoever captured the case, for supervisors' rules; '' when none did
    occurred_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    sla_breached_at: datetime | None = None
    sla_breach: str = ""
    version: int = 1
    status_before_fulfillment: str = ""  # while awaiting fulfillment: the status to go back to
    fulfillments: dict[str, CaseFulfillment] = field(default_factory=dict)  # by fulfillment id
    # What this unit of work did to the case, for the store and the notifier; never stored as such.
    timeline: list[Entry] = field(default_factory=list, repr=False)
    events: list[Happened] = field(default_factory=list, repr=False)
    calls_linked: list[str] = field(default_factory=list, repr=False)
    fulfillments_heard: list[str] = field(default_factory=list, repr=False)

    # -- reading --

    @property
    def coded(self) -> bool:
        return self.issue_code is not None

    @property
    def all_call_ids(self) -> list[str]:
        """The call the contact was filed for, then the calls linked to it."""
        return ([self.call_id] if self.call_id else []) + [c for c in self.call_ids if c != self.call_id]

    def flat(self) -> dict:
        """The case's own fields one level deep, named as the timeline and the store name them."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _NOT_FLAT}
        values.update({PRODUCT_NAMES[k]: v for k, v in vars(self.product).items()})
        values.update({REPORTER_NAMES[k]: v for k, v in vars(self.reporter).items()})
        values["search_config"] = search_config(self.language)
        return values

    def stage(self, book: CodeBook) -> str:
        return book.stage_of(self.status)

    def settle(self) -> None:
        """What this unit of work recorded is written and sent: forget it, so it is never sent twice."""
        self.timeline.clear()
        self.events.clear()
        self.calls_linked.clear()
        self.fulfillments_heard.clear()

    # -- capture --

    @classmethod
    def capture(
        cls, values: dict, *, book: CodeBook, actor: str, now: datetime, call_id: str | None = None
    ) -> Case:
        """A new case from checked input (domain/fields.clean), coded and, for health and safety, escalated."""
        case = cls(created_at=now)
        if call_id:
            case.call_ids, case.calls_linked = [call_id], [call_id]
        case._write(values)
        case.occurred_at = values.get("occurred_at") or now
        case._open(book, actor=actor, now=now)
        return case

    def code_filed_call(self, values: dict, *, book: CodeBook, actor: str, now: datetime) -> None:
        """Code the contact filed for a call: it becomes the case, with its recording and its time."""
        if self.coded:
            raise Refused("this call's contact is already a case")
        values = {k: v for k, v in values.items() if k != "occurred_at"}
        if self.consumer_id and not values.get("consumer_id"):
            values.pop("consumer_id", None)  # the caller the call was matched to stays
        self._write(values)
        self._open(book, actor=actor, now=now)

    def _open(self, book: CodeBook, *, actor: str, now: datetime) -> None:
        book.issue(self.issue_code)
        self.status = "new"
        self.created_by = actor
        self._code(book, since=now)
        self.summary = self._summary(book)
        self.timeline.append(
            Entry(
                "created", actor, {k: {"before": None, "after": v} for k, v in self._created_view().items()}
            )
        )
        self.events.append(Happened("contact_created", actor=actor))
        if book.escalates(self.issue_code):
            reason = f"Health and safety: {book.path(self.issue_code)}"
            self.escalated, self.escalation_reason = True, reason
            if "escalated" not in self.action_codes:
                self.action_codes = [*self.action_codes, "escalated"]
            self.timeline.append(
                Entry("escalated", SYSTEM, {"escalated": {"before": False, "after": True}}, reason)
            )
            self.events.append(Happened("contact_escalated", actor=SYSTEM, reason=reason))
        if self.open_fulfillments:  # requested for the call's contact before anyone coded it
            self._await_fulfillment(book, note=f"Coded while waiting on {self._owed()}")

    def _created_view(self) -> dict:
        """The fields worth showing on the timeline's first line."""
        keep = ("channel", "consumer_id", "issue_code", "severity", "status", "language")
        view = {k: getattr(self, k) for k in keep if getattr(self, k)}
        product = {k: json_value(v) for k, v in vars(self.product).items() if v}
        if product:
            view["product"] = product
        if self.all_call_ids:
            view["call_ids"] = self.all_call_ids
        return view

    # -- changes --

    def update(
        self, values: dict, *, book: CodeBook, actor: str, expected_version: int | None = None
    ) -> bool:
        """Write checked values of writable fields; False when nothing changed."""
        if expected_version and self.version != expected_version:
            raise StaleVersion(f"the case changed meanwhile (version {self.version}); reload it")
        if "occurred_at" in values and values["occurred_at"] is None:
            raise InvalidInput("occurred_at: when did the contact happen? a date and time is needed")
        before = self.flat()
        was_escalated = self.escalated
        if "issue_code" in values and values["issue_code"] != self.issue_code:
            book.issue(values["issue_code"])
        self._write(values)
        if self.coded and ("issue_code" in values or "severity" in values):
            self._code(book, since=self.created_at)
        self.summary = self._summary(book)
        changes = changes_between(before, self.flat())
        if not changes:
            return False
        self._record_update(actor, changes, moving=before["consumer_id"] is not None)
        self.events.append(Happened("contact_updated", actor=actor, changed_fields=tuple(sorted(changes))))
        if self.coded and book.escalates(self.issue_code) and not was_escalated:
            self._escalate(f"Health and safety: {book.path(self.issue_code)}", actor=SYSTEM)
        return True

    def _record_update(self, actor: str, changes: dict, *, moving: bool) -> None:
        """An update's timeline; moving the case from one consumer to another is a line of its own."""
        rest = dict(changes)
        moved = rest.pop("consumer_id", None) if moving else None
        if moved is not None:
            note = f"moved from consumer {moved['before']} to {moved['after'] or 'none'}"
            self.timeline.append(Entry("moved", actor, {"consumer_id": moved}, note))
        if rest:
            self.timeline.append(Entry("updated", actor, rest))

    def change_status(
        self,
        status: str,
        *,
        book: CodeBook,
        note: str,
        actor: str,
        now: datetime,
        may_close_escalated: bool = True,
        may_resolve_waiting: bool = True,
    ) -> None:
        """Move the case to `status`, if the workflow allows it from where it is.

        An escalated or health-and-safety case is resolved or closed only by someone who
        `may_close_escalated` (a supervisor): it is a legal record, not an agent's to finish. Awaiting
        fulfillment is fulfillment's to set and end (`_check_waiting`); a case reopened while one is open
        goes on waiting."""
        if not isinstance(status, str) or not status:
            raise InvalidInput("status: which status?")
        target = book.status(status)
        note = text(note, "note", limit=MAX_NOTE, strip=False)
        if not self.coded:
            raise Refused("code the contact first: it has no issue code yet")
        stage, to_stage = self.stage(book), target["stage"]
        if status == self.status or not allowed(stage, to_stage):
            raise Refused(f"a case cannot go from {self.status} to {status}")
        sensitive = self.escalated or book.escalates(self.issue_code)
        if to_stage in ("resolved", "closed") and sensitive and not may_close_escalated:
            raise Forbidden("only a supervisor may resolve or close an escalated or health-and-safety case")
        self._check_waiting(stage, to_stage, may_resolve_waiting=may_resolve_waiting)
        before = self.flat()
        was_resolved = self.resolved_at is not None
        self.status = status
        if stage == AWAITING:
            self.status_before_fulfillment = ""
        if self.first_response_at is None and to_stage != "new":
            self.first_response_at = now
        if to_stage == "resolved":
            self.resolved_at = now
        elif to_stage == "closed":
            self.closed_at = now
            self.resolved_at = self.resolved_at or now
        elif stage == "resolved":
            self.resolved_at = None  # reopened
        changes = changes_between(before, self.flat())
        self.timeline.append(Entry("status", actor, changes, note))
        self.events.append(Happened("contact_updated", actor=actor, changed_fields=tuple(sorted(changes))))
        if to_stage == "resolved" or (to_stage == "closed" and not was_resolved):
            self.events.append(Happened("contact_resolved", actor=actor))
        if self.open_fulfillments and to_stage in WAITS_FROM:
            self._await_fulfillment(book, note=f"Reopened while waiting on {self._owed()}")

    def escalate(self, reason: str, *, book: CodeBook, actor: str) -> None:
        """Send the case to the supervisors' queue, with the reason."""
        reason = text(reason, "reason", limit=MAX_NOTE)
        if not reason:
            raise InvalidInput("reason: say why the case needs a supervisor")
        if self.stage(book) not in OPEN_STAGES:
            raise Refused("only an open case can be escalated; reopen it first")
        if self.escalated and not self.assignee:
            raise Refused("the case is already in the supervisors' queue")
        self._escalate(reason, actor=actor)

    def _escalate(self, reason: str, *, actor: str) -> None:
        before = self.flat()
        self.escalated, self.escalation_reason, self.assignee = True, reason, ""
        if "escalated" not in self.action_codes:
            self.action_codes = [*self.action_codes, "escalated"]
        self.timeline.append(Entry("escalated", actor, changes_between(before, self.flat()), reason))
        self.events.append(Happened("contact_escalated", actor=actor, reason=reason))

    def assign(self, assignee: str, *, actor: str) -> bool:
        """Give the case to someone; an empty assignee puts it back in its queue. False if no change."""
        assignee = text(assignee, "assignee", limit=64)
        if assignee and not _ASSIGNEE.match(assignee):
            raise InvalidInput("assignee: letters, digits and . _ @ + - only, at most 64")
        if assignee == self.assignee:
            return False
        self.timeline.append(
            Entry("assigned", actor, {"assignee": {"before": self.assignee, "after": assignee}})
        )
        self.assignee = assignee
        self.events.append(Happened("contact_updated", actor=actor, changed_fields=("assignee",)))
        return True

    def add_action(self, action_code: str, *, book: CodeBook, note: str, actor: str, now: datetime) -> None:
        """Record an action taken (replied, coupon sent, sample requested...)."""
        if not isinstance(action_code, str) or not action_code:
            raise InvalidInput("action_code: which action?")
        action = book.action(action_code)
        note = text(note, "note", limit=MAX_NOTE, strip=False)
        before = self.flat()
        self.action_codes = [*self.action_codes, action_code]
        if action["is_response"] and self.first_response_at is None:
            self.first_response_at = now
        changes = changes_between(before, self.flat())
        self.timeline.append(Entry("action", actor, changes, note or action["label"]))
        self.events.append(Happened("contact_updated", actor=actor, changed_fields=tuple(sorted(changes))))

    def link_call(self, call_id: str, *, actor: str) -> bool:
        """Link a call (and so its recording) to the case; False if it is linked already."""
        call_id = a_call_id(call_id)
        if call_id in self.all_call_ids:
            return False
        self.call_ids = [*self.call_ids, call_id]
        self.calls_linked.append(call_id)
        self.timeline.append(Entry("call_linked", actor, {"call_ids": {"before": None, "after": call_id}}))
        self.events.append(Happened("contact_updated", actor=actor, changed_fields=("call_ids",)))
        return True

    def breach_sla(self, *, now: datetime) -> bool:
        """Flag the first deadline the case missed; False when it is on time, closed, or flagged already."""
        if self.sla_breached_at or self.resolved_at or not self.coded:
            return False
        if self.first_response_at is None and self.response_due_at and self.response_due_at < now:
            breach, due_at = "first_response", self.response_due_at
        elif self.resolution_due_at and self.resolution_due_at < now:
            breach, due_at = "resolution", self.resolution_due_at
        else:
            return False
        self.sla_breached_at, self.sla_breach = now, breach
        note = f"{breach.replace('_', ' ')} was due {due_at:%Y-%m-%d %H:%M} UTC"
        self.timeline.append(
            Entry("sla_breached", SYSTEM, {"sla_breach": {"before": "", "after": breach}}, note)
        )
        self.events.append(Happened("sla_breached", actor=SYSTEM, breach=breach, due_at=due_at))
        return True

    # -- inside --

    def _write(self, values: dict) -> None:
        for name, value in values.items():
            if name == "product":
                self.product = replace(Product(), **value)
            elif name == "reporter":
                self.reporter = replace(Reporter(), **value)
            else:
                setattr(self, name, value)

    def _code(self, book: CodeBook, *, since: datetime) -> None:
        """Severity from the code (its floor; the highest for health and safety), and due times from the SLA."""
        floor = book.issue(self.issue_code, for_new=False)["severity"]
        severity = self.severity or floor
        if severity_rank(floor) > severity_rank(severity):
            severity = floor
        if book.escalates(self.issue_code):
            severity = SEVERITIES[-1]
        self.severity = severity
        policy = book.policy_for(self.issue_code, severity)
        if policy:
            self.response_due_at = since + policy.first_response
            self.resolution_due_at = since + policy.resolution

    def _summary(self, book: CodeBook) -> str:
        parts = [book.path(self.issue_code)]
        product = self.product.name or self.product.sku
        if product:
            parts.append(product + (f", lot {self.product.lot_code}" if self.product.lot_code else ""))
        return " — ".join(p for p in parts if p)[:300]
