"""Survey use cases: plan on a trigger, open a link, take an answer. Over a store (which writes the
`survey_answered` event to outreach's outbox with the answer), a clock and the outlet that puts a note on the
case, all injected, so tests drive time and see what went out.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from services.outreach import survey_answers, survey_links, survey_mail
from services.outreach.survey_rules import Planned, SurveySent, Trigger, plan, score_range
from services.runtime import bus
from services.runtime.events import Event

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class TakesNoAnswers(RuntimeError):
    """A desk built without the outlet an answer needs (the note on the case): one that only plans and sends."""


class NoSuchSurvey(LookupError):
    """A signed link whose survey is gone (erased)."""


@dataclass(frozen=True)
class Opened:
    survey: SurveySent
    score: int | None  # the score a one-click link carries


@dataclass(frozen=True)
class Taken:
    answer: survey_answers.Answer | None  # None when the survey had already been answered
    survey: SurveySent


class SurveyDesk:
    def __init__(
        self,
        store,
        *,
        secret: bytes,
        clock: Clock,
        note_case: Callable[[str, str], Awaitable[None]] | None = None,
    ):
        self.store, self.secret, self.clock = store, secret, clock
        self.note_case = note_case

    async def on_trigger(self, trigger: Trigger) -> list[Planned]:
        """Claim a survey for each rule that fires; a trigger seen before claims nothing."""
        last = await self.store.last_surveyed_at(trigger.consumer_id)
        claimed = []
        for decision in plan(await self.store.rules(), trigger, last_surveyed_at=last):
            if isinstance(decision, Planned) and await self.store.claim(uuid.uuid4().hex, decision):
                claimed.append(decision)
        return claimed

    async def due(self, *, consents, send, lifetime=survey_links.LIFETIME) -> list[str]:
        """Send each survey due by now, once. Suppression is checked again (another survey may have gone out
        since it was planned), and so is the consumer's *surveys* consent. Returns the surveys sent."""
        now, sent = self.clock(), []
        for survey_id in await self.store.due_surveys(now):
            survey = await self.store.survey(survey_id)
            consumer = survey.trigger.consumer_id
            last = await self.store.last_surveyed_at(consumer)
            if last is not None and now - last < await self._window(survey):
                await self.store.hold_back(survey_id, "surveyed recently")
            elif not await consents(consumer, "surveys"):
                await self.store.hold_back(survey_id, "no surveys consent")
            elif await self.store.mark_sent(survey_id, now):
                await send(survey, self.links(survey, expires_at=now + lifetime))
                sent.append(survey_id)
        return sent

    async def _window(self, survey: SurveySent):
        rule = next((r for r in await self.store.rules() if r.id == survey.rule.id), None)
        return rule.suppress_for if rule else survey.rule.suppress_for

    async def open(self, token: str) -> Opened:
        claim = survey_links.verify(self.secret, token, now=self.clock())
        survey = await self.store.survey(claim.survey_id)
        if survey is None:
            raise NoSuchSurvey("this survey is no longer open")
        return Opened(survey, claim.score)

    async def answer(self, token: str, scores: dict[str, object], comment: str = "") -> Taken:
        """Check and record the answer; the first answer counts, and only it is published and noted. The
        event is written with the answer, in its transaction; the note follows it."""
        if self.note_case is None:
            raise TakesNoAnswers("this survey desk only plans and sends; answers go to one with its outlets")
        opened = await self.open(token)
        checked = survey_answers.check(opened.survey, scores, comment)
        given = survey_answers.answer(
            opened.survey, checked, answer_id=uuid.uuid4().hex, comment=comment, now=self.clock()
        )
        if not await self.store.record_answer(given, survey_answers.event(given)):
            return Taken(None, opened.survey)
        await self.note_case(opened.survey.trigger.case_id, survey_answers.case_note(given))
        return Taken(given, opened.survey)

    def links(self, survey: SurveySent, *, expires_at: datetime) -> dict:
        """The page link and one link per score, for the email."""
        low, high = score_range(survey.rule.kind, survey.rule.questions)
        sign = survey_links.sign
        return {
            "page": sign(self.secret, survey.survey_id, None, expires_at=expires_at),
            "scores": {
                s: sign(self.secret, survey.survey_id, s, expires_at=expires_at) for s in range(low, high + 1)
            },
        }


def subscriptions(desk: SurveyDesk) -> list[bus.Subscription]:
    """Contacts' `contact_resolved` in: each rule that fires claims its survey (sent later by `due`)."""

    async def take(event: Event) -> None:
        try:
            trigger = survey_mail.trigger_of(event.type, event.data, event.time)
        except survey_mail.NotATrigger as exc:
            log.warning("dropping %s event %s: %s", event.type, event.id, exc)
            return
        if not trigger.consumer_id:
            log.info("no survey for case %s: no consumer on file", trigger.case_id)
            return
        await desk.on_trigger(trigger)

    return [bus.Subscription("contacts", "contact_resolved", take)]
