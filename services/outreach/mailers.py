"""Survey and reorder-reminder emails handed to channels: the `send` callables the desks' sweeps take.

Each finds the consumer's reach (address, language) through the `Reachable` port, writes the email in
their language, adds the one-click unsubscribe for its purpose and sends it through the `Notices` port
under the natural key of what it is for (the survey, the reminder's cycle), so a sweep that runs twice
hands channels the same key and the consumer gets one email. A consumer with no address on file gets
nothing, and that is logged.
"""

from __future__ import annotations

import logging

from services.outreach import survey_mail
from services.outreach.campaign_sender import Notice, Notices, UnsubscribeLinks
from services.outreach.reach import Reach, Reachable
from services.outreach.reorder import Reminder
from services.outreach.survey_rules import SurveySent

log = logging.getLogger(__name__)

# (subject, body) per language; {sku} is the product as the consumer's orders name it.
REMINDER = {
    "en": ("Time to reorder {sku}?", "By our reckoning you will soon run out of {sku}.\n\nWould you like to order again?"),
    "fr": ("Bientôt à court de {sku} ?", "D'après vos commandes, votre {sku} sera bientôt épuisé.\n\nSouhaitez-vous en recommander ?"),
    "es": ("¿Le queda poco {sku}?", "Según sus pedidos, pronto se le acabará {sku}.\n\n¿Desea volver a pedirlo?"),
}  # fmt: skip


def _language(reach: Reach, written_in, fallback: str = "en") -> str:
    """The consumer's language when the email is written in it, else English."""
    language = (reach.language or fallback or "en").split("-")[0].lower()
    return language if language in written_in else "en"


class _Mailer:
    def __init__(self, notices: Notices, reach: Reachable, unsubscribe: UnsubscribeLinks):
        self.notices, self.reach, self.unsubscribe = notices, reach, unsubscribe

    async def _reach(self, consumer_id: str, what: str) -> Reach | None:
        found = (await self.reach.of([consumer_id])).get(consumer_id)
        if found is None or "@" not in found.email:
            log.info("%s not sent: consumer %s has no email address on file", what, consumer_id)
            return None
        return found

    async def _send(self, notice: Notice, what: str) -> bool:
        if not notice.list_unsubscribe:
            log.warning("%s not sent: no one-click unsubscribe link could be made", what)
            return False
        [taken] = await self.notices.send([notice])
        return taken


class SurveyMailer(_Mailer):
    """`send(survey, links)` for SurveyDesk.due: the survey email, in the consumer's language."""

    def __init__(self, notices: Notices, reach: Reachable, unsubscribe: UnsubscribeLinks, *, base_url: str):
        super().__init__(notices, reach, unsubscribe)
        self.base_url = base_url.rstrip("/")

    async def __call__(self, survey: SurveySent, links: dict) -> bool:
        what = f"survey {survey.survey_id}"
        consumer = survey.trigger.consumer_id
        if (reach := await self._reach(consumer, what)) is None:
            return False
        language = _language(reach, survey_mail.SUBJECT, survey.trigger.language)
        mail = survey_mail.compose(
            survey.rule.kind, language, reference="", base_url=self.base_url, links=links
        )
        notice = Notice(
            f"survey:{survey.survey_id}",
            reach.email,
            mail.subject,
            mail.text,
            "survey",
            language=language,
            list_unsubscribe=self.unsubscribe.link(consumer, "survey"),
            html=mail.html,
        )
        return await self._send(notice, what)


class ReminderMailer(_Mailer):
    """`send(reminder)` for ReorderDesk.due: the reminder to buy again, which is marketing."""

    async def __call__(self, reminder: Reminder) -> bool:
        what = f"reminder {reminder.key}"
        if (reach := await self._reach(reminder.consumer_id, what)) is None:
            return False
        language = _language(reach, REMINDER)
        subject, body = REMINDER[language]
        notice = Notice(
            reminder.key,
            reach.email,
            subject.format(sku=reminder.sku),
            body.format(sku=reminder.sku),
            "marketing",
            language=language,
            list_unsubscribe=self.unsubscribe.link(reminder.consumer_id, "marketing"),
        )
        return await self._send(notice, what)
