"""The survey path for tests and the benchmark: outreach's survey desk over real PostgreSQL, behind the
console's public survey routes, with the clock and the case notes in the caller's hands, and the events the
answers wrote to outreach's outbox read back.

The console reaches the desk through an adapter that turns outreach's refusals into the console's own
(SurveyGone, AnswerRefused), as its gRPC client does with status codes.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
from aiohttp import web
from psycopg_pool import AsyncConnectionPool

from services.console import survey_web
from services.outreach import survey_answers, survey_links
from services.outreach.survey_desk import NoSuchSurvey, SurveyDesk
from services.outreach.survey_rules import Trigger, rule_from_input
from services.outreach.survey_store import SurveyStore
from services.runtime.events import Event
from tests.support import infra

SERVICES = pathlib.Path(__file__).resolve().parents[2] / "services"
MIGRATIONS = SERVICES / "outreach" / "migrations"
OUTBOX = SERVICES / "runtime" / "migrations"  # every service's outbox, where the answers' events go
SECRET = b"survey-test-secret"
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@contextmanager
def outreach_database(prefix: str) -> Iterator[str]:
    name = infra.unique_name(prefix)
    url = infra.create_database(name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE SCHEMA outreach")
            conn.execute("SET search_path TO outreach")
            for path in [*sorted(OUTBOX.glob("*.sql")), *sorted(MIGRATIONS.glob("001*.sql"))]:
                conn.execute(path.read_text())
        yield url
    finally:
        infra.drop_database(name)


async def open_store(url: str, *, size: int = 2) -> SurveyStore:
    pool = AsyncConnectionPool(
        url, kwargs={"options": "-c search_path=outreach"}, min_size=1, max_size=size, open=False
    )
    await pool.open(wait=True, timeout=10)
    return SurveyStore(pool)


class Clock:
    def __init__(self, now: datetime = START):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


class Outlets:
    """What the desk sent out besides its events: notes on cases."""

    def __init__(self):
        self.notes: list[tuple[str, str]] = []

    async def note_case(self, case_id: str, text: str) -> None:
        self.notes.append((case_id, text))


class ConsoleDesk:
    def __init__(self, desk: SurveyDesk):
        self.desk = desk

    async def open(self, token: str) -> survey_web.SurveyView:
        try:
            opened = await self.desk.open(token)
        except (survey_links.BadLink, NoSuchSurvey) as error:
            raise survey_web.SurveyGone(str(error)) from error
        rule = opened.survey.rule
        poll = [{"key": q.key, "text": q.text, "low": q.low, "high": q.high} for q in rule.questions]
        return survey_web.SurveyView(rule.kind, opened.survey.trigger.language, poll, opened.score)

    async def answer(self, token: str, scores: dict, comment: str) -> None:
        try:
            await self.desk.answer(token, scores, comment)
        except (survey_links.BadLink, NoSuchSurvey) as error:
            raise survey_web.SurveyGone(str(error)) from error
        except survey_answers.InvalidAnswer as error:
            raise survey_web.AnswerRefused(str(error).split(":", 1)[0], str(error)) from error


def desk_over(store: SurveyStore, clock: Clock, outlets: Outlets) -> SurveyDesk:
    return SurveyDesk(store, secret=SECRET, clock=clock, note_case=outlets.note_case)


async def published(store: SurveyStore) -> list[tuple[str, dict]]:
    """The `survey_answered` events in outreach's outbox (no relay runs here), oldest first."""
    async with store.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT body FROM outbox WHERE routing_key = %s ORDER BY id", (survey_answers.EVENT_TYPE,)
        )
        rows = await cur.fetchall()
    events = [Event.from_json(bytes(row[0])) for row in rows]
    return [(event.type, event.data) for event in events]


def survey_app(desk: SurveyDesk) -> web.Application:
    app = web.Application()
    app[survey_web.DESK] = ConsoleDesk(desk)
    app.add_routes(survey_web.routes())
    return app


CSAT_RULE = {"id": "complaint-csat", "kind": "csat", "issue_prefix": "complaint", "delay_minutes": 2880}


async def sent_survey(
    desk: SurveyDesk, store: SurveyStore, *, case_id: str, consumer_id: str, language="en"
) -> dict:
    """A complaint resolved now, its CSAT claimed and sent when due; the survey's links, signed for 14 days."""
    await store.put_rule(rule_from_input({**CSAT_RULE, "suppress_days": 30}), actor="admin")
    trigger = Trigger(
        "contact_resolved", case_id, consumer_id, "complaint.taste", language, "team-a", "agent-1", "email",
        desk.clock(),
    )  # fmt: skip
    planned = await desk.on_trigger(trigger)
    survey_id = await store.survey_id_for(planned[0].key) if planned else None
    if survey_id is None:
        return {}
    await store.mark_sent(survey_id, planned[0].send_at)
    survey = await store.survey(survey_id)
    return {"survey_id": survey_id, **desk.links(survey, expires_at=desk.clock() + timedelta(days=16))}
