"""Contacts' `contact_resolved` into the survey desk: a case with a consumer is a trigger, a case without one
or an event without a case is dropped with a log line and the consumer keeps going; a desk built only to
plan and send refuses an answer with a clear error."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from services.outreach.survey_desk import SurveyDesk, TakesNoAnswers, subscriptions
from services.runtime.events import Event

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class Desk:
    def __init__(self):
        self.triggers = []

    async def on_trigger(self, trigger):
        self.triggers.append(trigger)
        return []


def resolved(case: dict | None) -> Event:
    return Event(source="contacts", type="contact_resolved", data={"case": case} if case else {}, time=AT)


async def test_a_resolved_case_with_a_consumer_is_a_trigger_and_the_rest_are_dropped(caplog):
    desk = Desk()
    [subscription] = subscriptions(desk)
    assert (subscription.source, subscription.event_type) == ("contacts", "contact_resolved")
    case = {"id": "case-1", "consumer_id": "con-1", "issue_code": "complaint.taste", "language": "fr",
            "team": "north", "assignee": "ada", "channel": "phone"}  # fmt: skip
    with caplog.at_level(logging.INFO):
        await subscription.handler(resolved(None))
        await subscription.handler(resolved({"id": "case-2"}))
        await subscription.handler(resolved(case))
    [trigger] = desk.triggers
    assert (trigger.case_id, trigger.consumer_id, trigger.language, trigger.agent, trigger.occurred_at) == (
        "case-1", "con-1", "fr", "ada", AT,
    )  # fmt: skip
    assert "no case in the event" in caplog.text
    assert "no survey for case case-2: no consumer on file" in caplog.text


async def test_a_desk_without_outlets_refuses_an_answer():
    desk = SurveyDesk(object(), secret=b"s", clock=lambda: AT)
    with pytest.raises(TakesNoAnswers, match="only plans and sends"):
        await desk.answer("token", {"score": 4})
