"""In-memory stand-ins for casework's unit of work and for the consumer directory: no PostgreSQL."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta

from services.contacts.casework.domain.calls import EndedCall
from services.contacts.casework.domain.case import Case
from services.contacts.casework.domain.codes import CachedCodeBook, CodeBook
from services.contacts.casework.domain.sla import SlaPolicy
from services.contacts.casework.inbox_service import Inbox
from services.contacts.casework.notifier import Notifier
from services.contacts.casework.service import Casework
from services.contacts.casework.shape import CASE_RULES

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def issue(code, severity="low", auto_escalate=False, active=True):
    return {
        "code": code,
        "parent": code.rpartition(".")[0] or None,
        "label": code.rsplit(".", 1)[-1].replace("_", " ").capitalize(),
        "severity": severity,
        "auto_escalate": auto_escalate,
        "active": active,
        "position": 0,
    }


def book() -> CodeBook:
    statuses = [
        ("new", "new"),
        ("in_progress", "in_progress"),
        ("referred_qa", "in_progress"),
        ("awaiting_consumer", "awaiting_consumer"),
        ("awaiting_fulfillment", "awaiting_fulfillment"),
        ("resolved", "resolved"),
        ("closed", "closed"),
        ("retired", "in_progress"),
    ]
    return CodeBook(
        issues={
            i["code"]: i
            for i in [
                issue("question"),
                issue("complaint", "medium"),
                issue("complaint.quality", "medium"),
                issue("complaint.quality.foreign_object", "high"),
                issue("complaint.quality.foreign_object.plastic", "high"),
                issue("complaint.illness_injury", "critical", auto_escalate=True),
                issue("complaint.illness_injury.illness", "critical"),
                issue("complaint.old", "low", active=False),
            ]
        },
        actions={
            "replied": {
                "code": "replied",
                "label": "Replied",
                "is_response": True,
                "active": True,
                "position": 0,
            },
            "coupon_sent": {
                "code": "coupon_sent",
                "label": "Coupon sent",
                "is_response": False,
                "active": True,
                "position": 1,
            },
        },
        statuses={
            code: {"code": code, "label": code, "stage": stage, "active": code != "retired", "position": 0}
            for code, stage in statuses
        },
        policies=[
            SlaPolicy("", None, timedelta(days=2), timedelta(days=10)),
            SlaPolicy("complaint", None, timedelta(days=1), timedelta(days=7)),
            SlaPolicy("", "critical", timedelta(hours=1), timedelta(days=1)),
        ],
    )


class FakeDatabase:
    """What has been committed: cases, timeline entries, outbox events, filed calls, codes."""

    def __init__(self):
        self.cases: dict[str, Case] = {}
        self.timeline: dict[str, list] = {}
        self.outbox: list = []
        self.callers: dict[str, str] = {}
        self.call_extensions: dict[str, str] = {}  # filed call id -> the extension that took it
        self.codes: list[tuple[str, dict]] = []
        self.pauses: dict[str, object] = {}  # event id -> PauseChange, as call_recording_pause keeps them
        self.claims: dict[str, object] = {}  # case id -> Claim, as case_claim keeps them
        self.follow_ups: dict[str, object] = {}  # follow-up id -> FollowUp
        self.rules: dict[str, object] = {}  # rule id -> InboxRule
        self.commits = 0
        self._reference = 0

    def kinds(self, case_id: str) -> list[tuple[str, str]]:
        return [(e.kind, e.actor) for e in self.timeline.get(case_id, [])]

    def event_types(self) -> list[str]:
        return [e.type for e in self.outbox]


class FakeCases:
    """The repository, staging every write until the unit of work commits."""

    def __init__(self, db: FakeDatabase, staged: list):
        self.db = db
        self.staged = staged

    async def get(self, case_id):
        found = self.db.cases.get(case_id)
        return copy.deepcopy(found) if found else None

    async def uncoded_call(self, call_id):
        for case in self.db.cases.values():
            if case.call_id == call_id and not case.coded:
                return copy.deepcopy(case)
        return None

    async def call_extension(self, call_id):
        return self.db.call_extensions.get(call_id)

    def _stage(self, case: Case) -> None:
        stored = copy.deepcopy(case)
        entries = list(case.timeline)
        stored.timeline, stored.events, stored.calls_linked, stored.fulfillments_heard = [], [], [], []

        def apply():
            self.db.cases[stored.id] = stored
            self.db.timeline.setdefault(stored.id, []).extend(entries)

        self.staged.append(apply)

    async def add(self, cases):
        for case in cases:
            case.id = case.id or str(uuid.uuid4())
            self.db._reference += 1
            case.reference = self.db._reference
            self._stage(case)

    async def save(self, case):
        case.version += 1
        self._stage(case)

    async def save_fulfillments(self, case):
        fulfillments = dict(case.fulfillments)

        def apply():
            self.db.cases[case.id].fulfillments = fulfillments

        self.staged.append(apply)

    async def due_for_breach(self, now, limit):
        due = [
            copy.deepcopy(c)
            for c in self.db.cases.values()
            if c.coded
            and not c.sla_breached_at
            and not c.resolved_at
            and (
                (c.first_response_at is None and c.response_due_at and c.response_due_at < now)
                or (c.resolution_due_at and c.resolution_due_at < now)
            )
        ]
        return due[:limit]

    async def unidentified_caller(self, caller_key):
        return self.db.callers.setdefault(caller_key, str(uuid.uuid4()))

    async def file_call(self, call, *, consumer_id, unidentified_caller_id):
        if any(c.call_id == call.call_id for c in self.db.cases.values()):
            return None
        case = Case(
            id=str(uuid.uuid4()),
            consumer_id=consumer_id,
            call_id=call.call_id,
            summary=call.summary,
            occurred_at=call.started_at,
            created_at=call.started_at,
        )
        self.staged.append(lambda: self.db.cases.__setitem__(case.id, case))
        self.staged.append(lambda: self.db.call_extensions.__setitem__(call.call_id, call.extension))
        return case.id

    async def record_pause_change(self, change):
        if change.event_id in self.db.pauses:
            return False
        self.staged.append(lambda: self.db.pauses.__setitem__(change.event_id, change))
        return True

    async def upsert_code(self, kind, row):
        self.staged.append(lambda: self.db.codes.append((kind, row)))


class FakeInbox:
    """Claims, follow-ups and rules, staged like the cases until the unit of work commits."""

    def __init__(self, db: FakeDatabase, staged: list):
        self.db = db
        self.staged = staged

    async def claim_of(self, case_id):
        return self.db.claims.get(case_id)

    async def put_claim(self, claim):
        self.staged.append(lambda: self.db.claims.__setitem__(claim.case_id, claim))

    async def drop_claim(self, case_id):
        self.staged.append(lambda: self.db.claims.pop(case_id, None))

    async def follow_up(self, follow_up_id):
        return self.db.follow_ups.get(follow_up_id)

    async def add_follow_up(self, follow_up):
        self.staged.append(lambda: self.db.follow_ups.__setitem__(follow_up.id, follow_up))

    save_follow_up = add_follow_up

    async def due_follow_ups(self, now, limit):
        due = [
            f
            for f in self.db.follow_ups.values()
            if f.state == "open" and not f.reminded_at and f.due_at <= now
        ]
        return sorted(due, key=lambda f: f.due_at)[:limit]

    async def put_rule(self, rule, *, actor):
        self.staged.append(lambda: self.db.rules.__setitem__(rule.id, rule))


class FakeUnitOfWork:
    """Rolls back unless committed, like the real one: nothing staged reaches the database before commit()."""

    def __init__(self, db: FakeDatabase):
        self.db = db
        self.staged: list = []
        self.cases = FakeCases(db, self.staged)
        self.inbox = FakeInbox(db, self.staged)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.staged.clear()

    async def publish(self, events):
        self.staged.append(lambda: self.db.outbox.extend(events))

    async def commit(self):
        for apply in self.staged:
            apply()
        self.staged.clear()
        self.db.commits += 1


class FakeConsumers:
    """The consumer directory as casework sees it."""

    def __init__(self, known=(), owners=None):
        self.known = set(known)
        self.owners = owners or {}
        self.contacted_at: list[tuple[str, datetime]] = []

    async def exists(self, consumer_id):
        return consumer_id in self.known

    async def owner_of(self, number):
        return self.owners.get(number)

    async def contacted(self, consumer_id, at):
        self.contacted_at.append((consumer_id, at))


class Clock:
    def __init__(self, now: datetime = NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def casework(db: FakeDatabase | None = None, *, consumers=None, clock=None) -> tuple[Casework, FakeDatabase]:
    db = db or FakeDatabase()
    codes = book()

    async def load():
        return codes

    service = Casework(
        unit_of_work=lambda: FakeUnitOfWork(db),
        codes=CachedCodeBook(load),
        consumers=consumers or FakeConsumers(),
        rules=CASE_RULES,
        clock=clock or Clock(),
    )
    return service, db


def ended_call(
    call_id: str, number: str = "+16145550123", withheld: bool = False, extension: str = "1001"
) -> EndedCall:
    return EndedCall(
        call_id=call_id,
        number=number,
        withheld=withheld,
        extension=extension,
        reason="completed",
        duration_seconds=42.4,
        recording_key=f"{call_id}.wav",
        started_at=NOW - timedelta(minutes=5),
    )


def inbox(db: FakeDatabase, *, clock=None) -> Inbox:
    """The inbox's use cases over the same fake database as `casework(db)`."""
    codes = book()

    async def load():
        return codes

    return Inbox(
        unit_of_work=lambda: FakeUnitOfWork(db),
        codes=CachedCodeBook(load),
        channels=CASE_RULES["channel"].one_of,
        reminder=Notifier().follow_up_due,
        clock=clock or Clock(),
    )
