"""Survey and reorder emails through the Notices port: in the consumer's language from their reach, with the
one-click unsubscribe, under the natural key; nothing for a consumer with no address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.outreach.mailers import ReminderMailer, SurveyMailer
from services.outreach.reach import Reach
from services.outreach.reorder import Reminder
from services.outreach.survey_rules import Rule, SurveySent, Trigger
from tests.unit.outreach.test_campaign_sender import FakeNotices, Links

NOW = datetime(2026, 11, 12, 12, 0, tzinfo=UTC)


class FakeReach:
    def __init__(self, known: dict[str, Reach]):
        self.known = known

    async def of(self, consumer_ids):
        return {c: self.known[c] for c in consumer_ids if c in self.known}


REACH = FakeReach({"amelie": Reach("amelie@example.fr", "fr-FR", "Europe/Paris"), "kai": Reach("kai@example.de", "de", "UTC"),
                   "silent": Reach("", "en", "UTC")})  # fmt: skip
CSAT = Rule("complaint-csat", "CSAT", "contact_resolved", "csat", timedelta(days=2), timedelta(days=30))


def survey_for(consumer: str) -> SurveySent:
    trigger = Trigger("contact_resolved", "case-1", consumer, "complaint", "en", "north", "ada", "email", NOW)
    return SurveySent("s1", CSAT, trigger, NOW)


LINKS = {"page": "P", "scores": {n: f"T{n}" for n in range(1, 6)}}


async def test_a_survey_goes_in_the_consumers_language_with_its_unsubscribe_under_the_surveys_key():
    notices = FakeNotices()
    assert await SurveyMailer(notices, REACH, Links(), base_url="https://care.example/")(
        survey_for("amelie"), LINKS
    )
    [sent] = notices.sent
    assert (sent.idempotency_key, sent.to_address, sent.purpose, sent.language) == (
        "survey:s1",
        "amelie@example.fr",
        "survey",
        "fr",
    )
    assert sent.subject == "Votre avis en un clic" and "https://care.example/s/T5" in sent.body
    assert 'href="https://care.example/s/P"' in sent.html
    assert sent.list_unsubscribe == "https://care.example/u/amelie/survey"


async def test_a_language_the_email_is_not_written_in_gets_english_and_no_address_gets_nothing():
    notices = FakeNotices()
    mailer = SurveyMailer(notices, REACH, Links(), base_url="https://care.example")
    assert await mailer(survey_for("kai"), LINKS)
    assert not await mailer(survey_for("silent"), LINKS)
    assert not await mailer(survey_for("unknown"), LINKS)
    assert not await SurveyMailer(notices, REACH, Links(missing={"kai"}), base_url="x")(
        survey_for("kai"), LINKS
    )
    assert [(n.to_address, n.language, n.subject) for n in notices.sent] == [
        ("kai@example.de", "en", "How did we do? One click tells us")
    ]


async def test_a_reorder_reminder_is_marketing_keyed_by_its_cycle():
    notices = FakeNotices()
    reminder = Reminder(
        "amelie",
        "OAT-500",
        timedelta(days=30),
        NOW,
        NOW + timedelta(days=30),
        NOW + timedelta(days=27),
        "reorder:amelie:OAT-500:x",
    )
    assert await ReminderMailer(notices, REACH, Links())(reminder)
    [sent] = notices.sent
    assert (sent.idempotency_key, sent.purpose, sent.language) == (
        "reorder:amelie:OAT-500:x",
        "marketing",
        "fr",
    )
    assert sent.subject == "Bientôt à court de OAT-500 ?"
    assert sent.list_unsubscribe == "https://care.example/u/amelie/marketing"
