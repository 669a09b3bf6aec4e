"""PCI pauses over the real broker: telephony's recording_paused and recording_resumed show on the timeline
of every case the call belongs to, also one linked after the pause, once each however often they arrive;
the filed call lists its recording's silent spans."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from crs.contacts.v1 import casework_pb2 as pb
from crs.telephony.v1 import events_pb2 as telephony

from services.runtime.events import Event
from tests.integration.contacts.test_call_filing import call_ended, publish
from tests.integration.contacts.test_consumers_api import create
from tests.support.wait import async_wait_for

PAUSED_AT = datetime(2026, 11, 24, 10, 0, 2, tzinfo=UTC)
RESUMED_AT = datetime(2026, 11, 24, 10, 0, 4, tzinfo=UTC)


def pause_changed(call_id: str, *, paused: bool, by: str, role: str, at: datetime, offset: float) -> Event:
    message = telephony.RecordingPauseChanged(
        call_id=call_id, extension="1001", paused=paused, by=by, by_role=role, offset_seconds=offset
    )
    message.at.FromDatetime(at)
    kind = "recording_paused" if paused else "recording_resumed"
    return Event.of("telephony", kind, message, correlation_id=call_id)


def pauses_of(timeline: pb.Timeline) -> list[tuple[str, str, str, str]]:
    return [
        (e.kind, e.actor, e.call_id, e.note)
        for e in timeline.events
        if e.kind in ("recording_paused", "recording_resumed")
    ]


async def timeline_with_resumption(agent, case_id: str) -> pb.Timeline | None:
    timeline = await agent.GetTimeline(pb.GetTimelineRequest(id=case_id))
    return timeline if any(e.kind == "recording_resumed" for e in timeline.events) else None


async def test_pauses_show_on_every_case_of_the_call_including_one_linked_later(contacts, amqp_url, agent):
    consumer = await create(contacts, "Caller Who Pays By Card", "+1 614 555 0870")
    call_id = str(uuid.uuid4())
    during = await agent.capture(consumer_id=consumer.id, call_id=call_id)  # captured while the call lasts
    # The card is read out after the capture and after the later link (well after: times are the events'),
    # so the pauses come last on both timelines.
    paused_at = datetime.now(UTC) + timedelta(minutes=10)
    resumed_at = paused_at + timedelta(seconds=2)
    paused = pause_changed(call_id, paused=True, by="alice", role="agent", at=paused_at, offset=2.0)
    resumed = pause_changed(call_id, paused=False, by="sam", role="supervisor", at=resumed_at, offset=4.0)
    await publish(amqp_url, paused)
    await publish(amqp_url, resumed)
    await publish(amqp_url, paused)  # redelivered: shown once

    timeline = await async_wait_for(
        lambda: timeline_with_resumption(agent, during.id), timeout=20, what="the pauses on the timeline"
    )
    expected = [
        ("recording_paused", "alice", call_id, "Recording paused (agent) at 2.0 s of the call's recording"),
        (
            "recording_resumed",
            "sam",
            call_id,
            "Recording resumed (supervisor) at 4.0 s of the call's recording",
        ),
    ]
    assert pauses_of(timeline) == expected
    shown = [e for e in timeline.events if e.kind.startswith("recording_")]
    assert [e.occurred_at.ToDatetime(tzinfo=UTC) for e in shown] == [paused_at, resumed_at]
    assert [e.id for e in shown] == [0, 0]  # the call's, not the case's own events
    assert [e.kind for e in timeline.events] == ["created", "recording_paused", "recording_resumed"]

    later = await agent.capture(consumer_id=consumer.id)
    before = await agent.GetTimeline(pb.GetTimelineRequest(id=later.id))
    assert pauses_of(before) == []
    await agent.LinkCall(pb.LinkCallRequest(id=later.id, call_id=call_id))
    linked = await agent.GetTimeline(pb.GetTimelineRequest(id=later.id))
    assert pauses_of(linked) == expected
    assert [e.kind for e in linked.events] == [
        "created",
        "call_linked",
        "recording_paused",
        "recording_resumed",
    ]
    assert pauses_of(await agent.GetTimeline(pb.GetTimelineRequest(id=during.id))) == expected


async def test_the_filed_call_lists_its_recording_s_silent_spans_and_its_coded_case_shows_the_pauses(
    contacts, amqp_url, agent
):
    consumer = await create(contacts, "Caller Coded After", "+1 614 555 0871")
    ended = call_ended(number="+16145550871", recording_key=f"2026/11/24/{uuid.uuid4()}.wav", seconds=6.0)
    call_id = ended.correlation_id
    message = ended.parse(telephony.CallEnded)
    span = message.paused.add(start_seconds=2.0, end_seconds=4.0, paused_by="alice", resumed_by="alice")
    span.paused_at.FromDatetime(PAUSED_AT)
    span.resumed_at.FromDatetime(RESUMED_AT)
    await publish(amqp_url, Event.of("telephony", "call_ended", message, correlation_id=call_id, id=ended.id))
    await publish(
        amqp_url, pause_changed(call_id, paused=True, by="alice", role="agent", at=PAUSED_AT, offset=2.0)
    )
    await publish(
        amqp_url, pause_changed(call_id, paused=False, by="alice", role="agent", at=RESUMED_AT, offset=4.0)
    )

    async def filed():
        try:
            return await agent.GetCall(pb.GetCallRequest(call_id=call_id))
        except Exception:
            return None

    call = await async_wait_for(filed, timeout=20, what="the filed call")
    (silent,) = call.paused
    assert (silent.start_seconds, silent.end_seconds, silent.paused_by, silent.resumed_by) == (
        2.0,
        4.0,
        "alice",
        "alice",
    )
    assert silent.paused_at.ToDatetime(tzinfo=UTC) == PAUSED_AT
    assert silent.resumed_at.ToDatetime(tzinfo=UTC) == RESUMED_AT

    case = await agent.capture(consumer_id=consumer.id, call_id=call_id)  # codes the filed contact itself
    timeline = await async_wait_for(
        lambda: timeline_with_resumption(agent, case.id), timeout=20, what="the pauses on the coded call"
    )
    assert [(kind, actor) for kind, actor, _, _ in pauses_of(timeline)] == [
        ("recording_paused", "alice"),
        ("recording_resumed", "alice"),
    ]
