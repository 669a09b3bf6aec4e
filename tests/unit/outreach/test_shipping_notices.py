"""Shipping notices: the text per state and language with the tracking link, and the desk's rule of one
notice per (parcel, state), through fakes of its store, the reach and consent read models and channels."""

from __future__ import annotations

import json
import pathlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.outreach import shipping_notices
from services.outreach.reach import Reach
from services.outreach.shipping_desk import ShippingDesk
from services.outreach.shipping_notices import JOURNEY, ShipmentNews
from services.outreach.shipping_store import LEASE, Claimed, Ending
from services.runtime.events import Event

FIXTURE = json.loads((pathlib.Path(__file__).parent / "fixtures" / "shipment_changed.json").read_text())
CONSUMER = FIXTURE["consumer_id"]
LINK = FIXTURE["tracking_url"]
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


class FakeClaims:
    """The store's rules in memory: one row per (parcel, state), leased while sending, ended once."""

    def __init__(self):
        self.rows: dict[tuple[str, str], dict] = {}

    async def take(self, news, now):
        key = (news.fulfillment_id, news.state)
        if key in self.rows:
            return False
        self.rows[key] = {"news": news, "outcome": "pending", "next_try_at": now, "reason": ""}
        return True

    async def claim(self, now, limit, *, fulfillment_id=""):
        due = [
            (key, row)
            for key, row in self.rows.items()
            if row["outcome"] == "pending" and row["next_try_at"] <= now and fulfillment_id in ("", key[0])
        ][:limit]
        claimed = []
        for (parcel, state), row in due:
            row["next_try_at"] = now + LEASE
            overtaken = any(
                p == parcel and JOURNEY[s] > JOURNEY[state] and later["outcome"] == "sent"
                for (p, s), later in self.rows.items()
            )
            claimed.append(Claimed(row["news"], overtaken))
        return claimed

    async def record(self, endings: list[Ending]):
        for e in endings:
            row = self.rows[(e.fulfillment_id, e.state)]
            if row["outcome"] != "pending":
                continue
            row["outcome"] = "pending" if e.outcome == "wait" else e.outcome
            row["reason"] = e.reason
            row["next_try_at"] = e.retry_at or row["next_try_at"]

    def outcome(self, parcel, state):
        return self.rows[(parcel, state)]["outcome"]


class Reaches:
    def __init__(self, known: dict[str, Reach]):
        self.known = known

    async def of(self, consumer_ids):
        return {c: self.known[c] for c in consumer_ids if c in self.known}


class Withdrawals:
    def __init__(self, withdrawn=()):
        self.consumers = set(withdrawn)

    async def withdrawn(self, consumer_ids):
        return self.consumers & set(consumer_ids)


class RecordingNotices:
    def __init__(self, accept=True):
        self.accept, self.sent, self.tried = accept, [], []

    async def send(self, notices):
        self.tried.extend(n.idempotency_key for n in notices)
        if self.accept:
            self.sent.extend(notices)
        return [self.accept] * len(notices)


def event(state="shipped", carrier_status="label_created", *, at=T0, **data) -> Event:
    payload = dict(FIXTURE, state=state, carrier_status=carrier_status, **data)
    return Event(source="fulfillment", type="shipment_changed", data=payload, time=at)


def desk(language="fr", *, known=True, withdrawn=(), accept=True):
    claims, notices, clock = FakeClaims(), RecordingNotices(accept), Clock()
    reaches = Reaches({CONSUMER: Reach("ines@example.org", language, "Europe/Paris")} if known else {})
    made = ShippingDesk(claims, reaches, Withdrawals(withdrawn), notices, clock=clock)
    return made, claims, notices, clock, reaches


def news(state="shipped", **changes) -> ShipmentNews:
    return replace(ShipmentNews.from_event(dict(FIXTURE, state=state), T0), **changes)


# ---- the texts ----


@pytest.mark.parametrize("language", ["en", "fr", "es", "de"])
@pytest.mark.parametrize("state", shipping_notices.STATES)
def test_every_state_has_its_text_in_every_language_with_the_tracking_link(language, state):
    subject, body = shipping_notices.compose(news(state), language)
    assert (subject, body.split("\n")[0]) == shipping_notices.TEXTS[language][state]
    assert LINK in body


def test_a_notice_is_written_in_the_consumers_language():
    assert shipping_notices.compose(news("delivered"), "de") == (
        "Ihr Paket wurde zugestellt",
        f"Ihr Paket wurde zugestellt.\n\nSendungsverfolgung: {LINK}\n",
    )


@pytest.mark.parametrize(
    ("tag", "language"), [("fr-CA", "fr"), ("es_MX", "es"), ("DE", "de"), ("it", "en"), ("", "en")]
)
def test_a_regional_tag_uses_its_language_and_one_without_texts_falls_back_to_english(tag, language):
    assert shipping_notices.language_of(tag) == language


def test_without_a_carrier_link_the_notice_gives_the_tracking_number_and_carrier():
    _, body = shipping_notices.compose(news("shipped", tracking_url=""), "es")
    assert "Número de seguimiento: CRS123456789012 (demo)" in body


@pytest.mark.parametrize(
    ("data", "why"),
    [({"state": "teleported"}, "state must be one of"), ({"fulfillment_id": ""}, "no fulfillment_id")],
)
def test_a_payload_that_is_not_a_shipment_is_refused_naming_why(data, why):
    with pytest.raises(shipping_notices.NotAShipment, match=why):
        ShipmentNews.from_event(dict(FIXTURE, **data), T0)


# ---- once per state ----


async def test_shipped_then_delivered_sends_two_notices_in_the_consumers_language():
    made, _, notices, _, _ = desk("fr")
    await made.take(event())
    await made.take(event("delivered", "delivered"))
    assert [(n.to_address, n.subject, n.purpose) for n in notices.sent] == [
        ("ines@example.org", "Votre colis est en route", "service"),
        ("ines@example.org", "Votre colis a été livré", "service"),
    ]
    assert all(f"Suivre le colis : {LINK}" in n.body for n in notices.sent)
    assert [n.idempotency_key for n in notices.sent] == [
        f"shipment:{FIXTURE['fulfillment_id']}:shipped",
        f"shipment:{FIXTURE['fulfillment_id']}:delivered",
    ]


async def test_a_redelivered_event_or_a_second_scan_of_the_same_state_sends_nothing_more():
    made, _, notices, _, _ = desk("en")
    await made.take(event())
    await made.take(event())  # redelivered
    await made.take(event("shipped", "in_transit"))  # another scan, still "on its way"
    assert [n.subject for n in notices.sent] == ["Your parcel is on its way"]


async def test_a_service_message_needs_no_marketing_consent_but_a_withdrawn_service_consent_stops_it():
    made, claims, notices, _, _ = desk(withdrawn={CONSUMER})
    await made.take(event())
    assert notices.sent == []
    assert claims.outcome(FIXTURE["fulfillment_id"], "shipped") == "suppressed"


async def test_a_consumer_without_a_known_address_gets_the_notice_once_it_is_known():
    made, claims, notices, clock, reaches = desk(known=False)
    await made.take(event())
    assert notices.sent == [] and claims.outcome(FIXTURE["fulfillment_id"], "shipped") == "pending"
    reaches.known[CONSUMER] = Reach("ines@example.org", "es", "UTC")
    await made.sweep()
    assert notices.sent == []  # not before its retry time
    clock.now += shipping_notices.RETRY_AFTER
    await made.sweep()
    await made.sweep()
    assert [n.subject for n in notices.sent] == ["Su paquete está en camino"]


async def test_a_notice_the_relay_refused_is_sent_again_later_under_the_same_key():
    made, _, notices, clock, _ = desk(accept=False)
    await made.take(event())
    assert notices.sent == []
    notices.accept = True
    clock.now += shipping_notices.RETRY_AFTER
    await made.sweep()
    await made.sweep()
    assert len(notices.sent) == 1
    assert notices.tried == [notices.sent[0].idempotency_key] * 2


async def test_a_waiting_notice_is_not_sent_once_a_later_state_of_its_parcel_has_been():
    made, claims, notices, clock, reaches = desk(known=False)
    await made.take(event())
    reaches.known[CONSUMER] = Reach("ines@example.org", "en", "UTC")
    clock.now += timedelta(minutes=1)
    await made.take(event("delivered", "delivered", at=clock.now))
    clock.now += shipping_notices.RETRY_AFTER
    await made.sweep()
    assert [n.subject for n in notices.sent] == ["Your parcel has been delivered"]
    assert claims.outcome(FIXTURE["fulfillment_id"], "shipped") == "superseded"


async def test_a_notice_that_could_not_go_for_days_is_given_up_as_no_longer_news():
    made, claims, notices, clock, reaches = desk(known=False)
    await made.take(event())
    reaches.known[CONSUMER] = Reach("ines@example.org", "en", "UTC")
    clock.now += shipping_notices.NEWS_FOR + timedelta(minutes=1)
    await made.sweep()
    assert notices.sent == [] and claims.outcome(FIXTURE["fulfillment_id"], "shipped") == "expired"


async def test_a_payload_that_is_not_a_shipment_is_dropped_and_sends_nothing():
    made, claims, notices, _, _ = desk()
    assert await made.take(event("teleported")) == []
    assert notices.sent == [] and claims.rows == {}
