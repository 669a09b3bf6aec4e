"""The erasure workflow over fakes: every service's step in order, retried until done, with one receipt."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.contacts.privacy import workflow
from services.contacts.privacy.workflow import Hold, Keys, LegalHold, Workflow

CONSUMER = "0b7f9a52-6a43-4c53-9f1e-3a3c1d1e0001"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        self.now += timedelta(seconds=1)
        return self.now


class MemoryStore:
    def __init__(self):
        self.erasures: dict[str, workflow.Erasure] = {}

    async def add(self, erasure):
        return self.erasures.setdefault(erasure.id, erasure)

    async def get(self, erasure_id):
        return self.erasures.get(erasure_id)

    async def unfinished(self):
        return [e for e in self.erasures.values() if e.state == "in_progress"]

    async def step_done(self, erasure_id, service, erased, at):
        erasure = self.erasures[erasure_id]
        step = erasure.step(service)
        done = replace(
            step, state="done", erased=dict(erased), attempts=step.attempts + 1, last_error="", finished_at=at
        )
        self.erasures[erasure_id] = workflow.with_step(erasure, done)

    async def step_failed(self, erasure_id, service, error):
        erasure = self.erasures[erasure_id]
        step = erasure.step(service)
        self.erasures[erasure_id] = workflow.with_step(
            erasure, replace(step, attempts=step.attempts + 1, last_error=error)
        )

    async def complete(self, erasure_id, at):
        self.erasures[erasure_id] = replace(self.erasures[erasure_id], state="done", completed_at=at)


class Directory:
    def __init__(self, holds=()):
        self.holds = list(holds)

    async def exists(self, consumer_id):
        return consumer_id == CONSUMER

    async def keys(self, consumer_id):
        return Keys(consumer_id, phone_numbers=("+14155550101",), recording_keys=("2026/12/01/a.wav",))

    async def legal_holds(self, consumer_id):
        return self.holds


class Services:
    """Each service's erase: records the order it was called in; `down` ones fail until brought back."""

    def __init__(self):
        self.calls: list[str] = []
        self.down: set[str] = set()

    def erasers(self):
        def eraser(name):
            async def erase(keys, erasure_id):
                if name in self.down:
                    raise ConnectionError(f"{name} unavailable")
                self.calls.append(name)
                return {f"{name}_rows": 2}

            return erase

        return {name: eraser(name) for name in workflow.SERVICES}


def flow(services, directory=None, store=None):
    return Workflow(
        store=store or MemoryStore(),
        directory=directory or Directory(),
        erasers=services.erasers(),
        clock=Clock(),
    )


async def test_an_erasure_runs_every_step_contacts_last_and_ends_in_a_receipt():
    services = Services()
    wf = flow(services)
    started = await wf.request(consumer_id=CONSUMER, reason="consumer asked by phone", requested_by="sam")
    assert started.state == "in_progress" and started.requested_by == "sam"

    assert await wf.advance_all() == 1
    receipt = await wf.get(started.id)
    assert services.calls == ["telephony", "screenpop", "billing", "fulfillment", "outreach", "contacts"]
    assert receipt.state == "done"
    assert [(s.service, s.state, dict(s.erased)) for s in receipt.steps] == [
        ("telephony", "done", {"telephony_rows": 2}),
        ("screenpop", "done", {"screenpop_rows": 2}),
        ("billing", "done", {"billing_rows": 2}),
        ("fulfillment", "done", {"fulfillment_rows": 2}),
        ("outreach", "done", {"outreach_rows": 2}),
        ("contacts", "done", {"contacts_rows": 2}),
    ]
    assert receipt.completed_at == datetime(2026, 12, 1, 9, 0, 8, tzinfo=UTC)


async def test_a_service_down_stops_the_round_before_contacts_and_the_erasure_completes_when_it_is_back():
    services = Services()
    services.down = {"billing"}
    wf = flow(services)
    started = await wf.request(consumer_id=CONSUMER, reason="consumer asked", requested_by="sam")

    assert await wf.advance_all() == 0
    halfway = await wf.get(started.id)
    assert services.calls == ["telephony", "screenpop"]
    assert halfway.step("billing").last_error == "ConnectionError: billing unavailable"
    assert halfway.step("contacts").state == "pending"

    services.down = set()
    assert await wf.advance_all() == 1
    receipt = await wf.get(started.id)
    assert services.calls == ["telephony", "screenpop", "billing", "fulfillment", "outreach", "contacts"]
    assert receipt.step("billing").attempts == 2 and receipt.step("billing").last_error == ""
    assert receipt.step("telephony").erased == {"telephony_rows": 2}


async def test_the_same_erasure_id_asked_twice_starts_one_erasure():
    services = Services()
    wf = flow(services)
    first = await wf.request(
        consumer_id=CONSUMER,
        reason="asked",
        requested_by="sam",
        erasure_id="5f0c3a54-1b7e-4c62-8d0b-0c4c2f3e9a11",
    )
    again = await wf.request(
        consumer_id=CONSUMER,
        reason="asked",
        requested_by="sam",
        erasure_id="5f0c3a54-1b7e-4c62-8d0b-0c4c2f3e9a11",
    )
    assert again == first and len(await wf.store.unfinished()) == 1


async def test_a_legal_hold_refuses_the_erasure_with_its_reason_and_release():
    hold = Hold(case_reference=17, reason="an open health-and-safety case", release="closing the case")
    wf = flow(Services(), directory=Directory(holds=[hold]))
    with pytest.raises(LegalHold) as refused:
        await wf.request(consumer_id=CONSUMER, reason="asked", requested_by="sam")
    assert str(refused.value) == "case 17: an open health-and-safety case. Released by: closing the case"
    assert await wf.store.unfinished() == []


async def test_an_erasure_needs_a_reason_and_a_consumer_that_exists():
    wf = flow(Services())
    with pytest.raises(workflow.InvalidRequest, match="reason"):
        await wf.request(consumer_id=CONSUMER, reason="  ", requested_by="sam")
    with pytest.raises(workflow.NotFound):
        await wf.request(
            consumer_id="0b7f9a52-6a43-4c53-9f1e-3a3c1d1e0002", reason="asked", requested_by="sam"
        )
