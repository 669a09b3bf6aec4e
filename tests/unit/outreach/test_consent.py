"""Consent, the consumer read model's rows and the one-click unsubscribe link, as plain Python: defaults by
purpose, a change and its event, what campaigns.decide makes of the standing, where a consumer's region and
time zone come from, and a link that cannot be altered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from crs.outreach.v1 import consent_pb2
from google.protobuf import json_format

from services.outreach import unsubscribe
from services.outreach.campaigns import Recipient, decide
from services.outreach.consent import Change, Entry, InvalidConsent, consented, standing
from services.outreach.consumers import ConsumerRow, NotAConsumer
from services.outreach.survey_links import BadLink

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
CONSUMER = "6f1c0c3e-8d0a-4c1b-9a43-2f7d3f2a1b10"
SECRET = b"unit-test-link-secret"


def _change(**kw) -> Change:
    values = {"source": "agent", "changed_by": "ada", "changed_at": NOW} | kw
    return Change.of(CONSUMER, values.pop("purpose", "marketing"), values.pop("channel", "email"),
                     values.pop("granted", True), **values)  # fmt: skip


def test_with_nothing_recorded_only_marketing_is_refused():
    assert consented([]) == {"service", "surveys", "recall"}
    assert len(standing([])) == 8  # four purposes by two channels, each shown


def test_a_recorded_change_stands_for_its_channel_alone():
    entries = [Entry("marketing", "email", True, "agent", "ada", NOW), Entry("surveys", "letter", False)]
    assert consented(entries, "email") == {"service", "surveys", "marketing", "recall"}
    assert consented(entries, "letter") == {"service", "recall"}


def test_a_change_names_its_source_and_becomes_the_consent_changed_event():
    event = _change(purpose="survey", granted=False, source="unsubscribe_link", changed_by="consumer")
    assert event.purpose == "surveys"  # the senders' word for it is accepted
    data = event.to_event()
    assert data == {
        "consumer_id": CONSUMER,
        "purpose": "surveys",
        "channel": "email",
        "granted": False,
        "source": "unsubscribe_link",
        "changed_by": "consumer",
        "changed_at": "2026-12-03T12:00:00Z",
    }
    # The payload is the proto's message exactly: an unknown field would fail to parse.
    parsed = json_format.ParseDict(data, consent_pb2.ConsentChanged())
    assert (parsed.source, parsed.changed_at.ToDatetime(UTC)) == ("unsubscribe_link", NOW)


@pytest.mark.parametrize(
    ("kw", "named"),
    [
        ({"purpose": "newsletters"}, "purpose"),
        ({"channel": "sms"}, "channel"),
        ({"source": "guess"}, "source"),
    ],
)
def test_an_unknown_purpose_channel_or_source_is_refused_by_name(kw, named):
    with pytest.raises(InvalidConsent, match=named):
        _change(**kw)


def test_a_marketing_unsubscribe_stops_marketing_but_not_a_recall_notice():
    withdrawn = consented([Entry("marketing", "email", False, "unsubscribe_link")])
    recipient = Recipient(CONSUMER, "a@example.org", "UTC", withdrawn)
    assert decide("marketing", recipient, NOW).outcome == "suppressed"
    assert decide("recall", recipient, NOW).outcome == "send"


def test_quiet_hours_are_the_consumers_own_from_their_address():
    row = ConsumerRow.from_event(
        _consumer(addresses=[{"region_code": "US", "administrative_area": "CA"}]), NOW
    )
    assert (row.region, row.time_zone) == ("US-CA", "America/Los_Angeles")
    # 12:00 UTC is 04:00 in California: deferred to 08:00 there, 16:00 UTC.
    decision = decide(
        "recall", Recipient(CONSUMER, "a@example.org", row.time_zone, frozenset({"recall"})), NOW
    )
    assert decision.outcome == "deferred"
    assert decision.until.astimezone(UTC) == datetime(2026, 12, 3, 16, 0, tzinfo=UTC)


def _consumer(**fields) -> dict:
    consumer = {"id": CONSUMER, "name": "Ada", "language": "fr-CA", "updated_at": "2026-12-01T09:00:00Z"}
    return {"consumer": consumer | fields}


def test_the_row_takes_the_first_email_the_primary_language_and_the_first_address():
    address = {
        "region_code": "FR",
        "locality": "Lyon",
        "address_lines": ["1 rue X"],
        "administrative_area": "",
    }
    row = ConsumerRow.from_event(
        _consumer(emails=[{"address": "ada@example.org"}, {"address": "b@example.org"}], addresses=[address]),
        NOW,
    )
    assert (row.email, row.language, row.region, row.time_zone) == (
        "ada@example.org",
        "fr",
        "FR",
        "Europe/Paris",
    )
    assert row.postal_address == address
    assert row.updated_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_a_consumer_with_no_address_is_in_utc_and_one_without_an_id_is_refused():
    row = ConsumerRow.from_event(_consumer(language=""), NOW)
    assert (row.email, row.language, row.region, row.time_zone, row.postal_address) == (
        "",
        "en",
        "",
        "UTC",
        None,
    )
    with pytest.raises(NotAConsumer):
        ConsumerRow.from_event({"consumer": {"name": "no id"}}, NOW)


def test_an_unsubscribe_link_names_consumer_purpose_and_channel_and_cannot_be_altered():
    token = unsubscribe.sign(SECRET, CONSUMER, "marketing", now=NOW)
    link = unsubscribe.verify(SECRET, token, now=NOW + timedelta(days=30))
    assert (link.consumer_id, link.purpose, link.channel) == (CONSUMER, "marketing", "email")
    surveys = unsubscribe.sign(SECRET, CONSUMER, "surveys", now=NOW)
    forged = token.replace(".marketing.", ".surveys.")
    for bad, why in (
        (forged, "altered"),
        (surveys + "x", "altered"),
        ("nonsense", "not an unsubscribe link"),
    ):
        with pytest.raises(BadLink, match=why):
            unsubscribe.verify(SECRET, bad, now=NOW)
    with pytest.raises(BadLink, match="expired"):
        unsubscribe.verify(SECRET, token, now=NOW + unsubscribe.LIFETIME)


def test_only_surveys_and_marketing_carry_the_rfc_8058_headers():
    headers = unsubscribe.headers("https://crs.example/", SECRET, CONSUMER, "marketing", now=NOW)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<https://crs.example/u/")
    assert unsubscribe.headers("https://crs.example", SECRET, CONSUMER, "service", now=NOW) == {}
    assert unsubscribe.headers("https://crs.example", SECRET, CONSUMER, "recall", now=NOW) == {}
    with pytest.raises(ValueError, match="no unsubscribe"):
        unsubscribe.sign(SECRET, CONSUMER, "recall", now=NOW)
