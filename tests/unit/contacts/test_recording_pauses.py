"""PCI pauses of a call's recording, as casework hears them from telephony: kept once per event with the
call, refused when they name no call or no one, and the recording's silent spans filed with the call."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from crs.telephony.v1 import events_pb2 as telephony

from services.contacts.casework.domain.calls import PausedSpan
from services.contacts.casework.entrypoints import bus
from services.runtime.events import Event
from tests.unit.contacts.fakes import casework

PAUSED_AT = datetime(2026, 11, 23, 9, 1, 2, tzinfo=UTC)
RESUMED_AT = datetime(2026, 11, 23, 9, 1, 40, tzinfo=UTC)


def pause_event(kind: str, *, call_id="call-7", by="alice", role="agent", at=PAUSED_AT, offset=2.0) -> Event:
    message = telephony.RecordingPauseChanged(
        call_id=call_id,
        extension="1001",
        paused=kind == "recording_paused",
        by=by,
        by_role=role,
        offset_seconds=offset,
    )
    message.at.FromDatetime(at)
    return Event.of("telephony", kind, message, correlation_id=call_id)


def handlers(service) -> dict[str, object]:
    return {sub.event_type: sub.handler for sub in bus.subscriptions(service)}


async def test_a_pause_and_a_resume_are_kept_once_each_however_often_they_arrive():
    service, db = casework()
    on = handlers(service)
    paused = pause_event("recording_paused")
    resumed = pause_event("recording_resumed", by="sam", role="supervisor", at=RESUMED_AT, offset=40.5)
    await on["recording_paused"](paused)
    await on["recording_resumed"](resumed)
    commits = db.commits
    await on["recording_paused"](paused)  # redelivered: nothing more is kept or committed
    assert db.commits == commits
    kept = [(c.kind, c.call_id, c.actor, c.actor_role, c.at, c.offset_seconds) for c in db.pauses.values()]
    assert kept == [
        ("recording_paused", "call-7", "alice", "agent", PAUSED_AT, 2.0),
        ("recording_resumed", "call-7", "sam", "supervisor", RESUMED_AT, 40.5),
    ]
    assert sorted(db.pauses) == sorted([paused.id, resumed.id])


async def test_a_change_naming_no_call_or_no_one_is_refused_logged_and_not_kept(caplog):
    service, db = casework()
    on = handlers(service)
    with caplog.at_level(logging.WARNING):
        await on["recording_paused"](pause_event("recording_paused", call_id=""))
        await on["recording_paused"](pause_event("recording_paused", by=""))
        await on["recording_resumed"](
            Event(source="telephony", type="recording_resumed", data={"offset_seconds": "soon"})
        )
    assert db.pauses == {}
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 3
    assert "call_id: a call id of 1 to 200 visible characters" in refused[0]
    assert "by: who paused or resumed the recording?" in refused[1]


def test_a_pause_reads_on_the_timeline_as_who_did_what_and_where_in_the_recording():
    change = bus.pause_change(pause_event("recording_paused", offset=2.04))
    entry = change.entry()
    assert (entry.kind, entry.actor) == ("recording_paused", "alice")
    assert entry.note == "Recording paused (agent) at 2.0 s of the call's recording"
    assert entry.changes == {"recording": {"before": None, "after": "paused"}}
    resumed = bus.pause_change(pause_event("recording_resumed", by="sam", role="supervisor", offset=4.0))
    assert resumed.entry().note == "Recording resumed (supervisor) at 4.0 s of the call's recording"


async def test_an_ended_call_is_filed_with_its_recording_s_silent_spans():
    message = telephony.CallEnded(
        call_id="call-8",
        extension="1001",
        caller=telephony.Caller(number="+16145550123"),
        reason=telephony.END_REASON_COMPLETED,
        duration_seconds=6.0,
        recording_key="2026/11/23/call-8.wav",
        paused=[
            telephony.PausedInterval(start_seconds=2.0, end_seconds=4.0, paused_by="alice", resumed_by="sam"),
            telephony.PausedInterval(start_seconds=5.5, end_seconds=0.0, paused_by="alice"),
        ],
    )
    message.started_at.FromDatetime(PAUSED_AT)
    message.paused[0].paused_at.FromDatetime(PAUSED_AT)
    message.paused[0].resumed_at.FromDatetime(RESUMED_AT)
    call = bus.ended_call(Event.of("telephony", "call_ended", message, correlation_id="call-8"))
    assert call.paused == (
        PausedSpan(2.0, 4.0, "alice", "sam", PAUSED_AT, RESUMED_AT),
        PausedSpan(5.5, 0.0, "alice", "", None, None),
    )
    # As the filed call keeps them (JSON), and reads them back.
    assert [PausedSpan.from_dict(span.as_dict()) for span in call.paused] == list(call.paused)
    assert call.paused[0].as_dict()["paused_at"] == "2026-11-23T09:01:02+00:00"
