"""A letter by post or by email: what a request may ask for, the worker's plan, and the mailer that hands
a printed letter to channels, retrying while channels is away."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.fulfillment import letter_mail, replies, requesting
from services.fulfillment.letter_mail import ChannelsDown, DueLetter, Mailer, Refused
from services.fulfillment.replies import Delivery, InvalidRequest, Kind, State
from services.runtime.principal import Principal

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def validated(kind="letter", delivery="", template="apology"):
    return replies.validate(
        case_id=str(uuid.uuid4()),
        kind=kind,
        value_minor=500 if kind == "coupon" else 0,
        currency="USD",
        sku="",
        quantity=1,
        template=template,
        idempotency_key="",
        delivery=delivery,
    )


def test_a_letter_goes_by_post_unless_email_is_asked_for():
    assert validated().delivery is Delivery.POST
    assert validated(delivery="email").delivery is Delivery.EMAIL


def test_only_a_letter_goes_by_email_and_only_post_or_email():
    with pytest.raises(InvalidRequest, match="only a letter"):
        validated(kind="coupon", delivery="email", template="")
    with pytest.raises(InvalidRequest, match="post or email"):
        validated(delivery="pigeon")


def test_the_worker_prints_an_emailed_letter_and_leaves_the_rest_to_the_mailer():
    assert replies.next_step(Kind.LETTER, State.APPROVED, "", Delivery.EMAIL).name == "print"
    assert replies.next_step(Kind.LETTER, State.IN_PROGRESS, "printed", Delivery.EMAIL) is None
    assert replies.next_step(Kind.LETTER, State.IN_PROGRESS, "printed", Delivery.POST).name == "post"
    assert replies.EMAIL_LETTER.to_state is State.DELIVERED


class NoEmailDirectory:
    async def household_of_case(self, case_id):
        return requesting.Household(consumer_id=str(uuid.uuid4()), country="US", household_keys=())


class Transaction:
    def __init__(self, earlier: str | None):
        self.earlier = earlier

    async def by_idempotency_key(self, key):
        return self.earlier

    def __getattr__(self, name):
        raise AssertionError(f"a refused request goes no further than the refusal ({name})")


class Store:
    """Nothing but the idempotency lookup: a refused request locks, counts and writes nothing."""

    def __init__(self, earlier: str | None = None):
        self.tx = Transaction(earlier)

    @asynccontextmanager
    async def transaction(self):
        yield self.tx

    async def get(self, fulfillment_id):
        return fulfillment_id if fulfillment_id == self.tx.earlier else None

    async def letter_template(self, name, language):
        """Only "apology" is in use; every other name is unknown or retired."""
        return ("en", "Our apologies", "Dear {name},", ("Sorry.",), "Care") if name == "apology" else None


async def test_a_letter_by_email_to_a_consumer_without_an_address_is_refused_before_anything_is_written():
    with pytest.raises(InvalidRequest, match="no email address"):
        await requesting.request(
            store=Store(),
            directory=NoEmailDirectory(),
            new=validated(delivery="email"),
            principal=Principal("ada", "agent"),
        )


async def test_a_retry_of_a_letter_already_taken_gets_it_even_if_the_address_has_gone_since():
    earlier = str(uuid.uuid4())
    retried = replace(validated(delivery="email"), idempotency_key="key-1")
    found = await requesting.request(
        store=Store(earlier), directory=NoEmailDirectory(), new=retried, principal=Principal("ada", "agent")
    )
    assert found == earlier


def a_letter(**changes) -> DueLetter:
    fields = dict(
        fulfillment_id=str(uuid.uuid4()),
        case_id=str(uuid.uuid4()),
        email_address="jane@example.test",
        consumer_name="Jane Roe",
        language="en",
        template="apology",
        pdf=b"%PDF-1.7",
    )
    return DueLetter(**(fields | changes))


class MailStore:
    def __init__(self, *letters: DueLetter):
        self.letters = list(letters)
        self.moves: list[tuple[str, str, str]] = []
        self.retries: list[tuple[str, datetime]] = []

    async def due(self, *, limit):
        due, self.letters = self.letters[:limit], self.letters[limit:]
        return due

    async def emailed(self, fulfillment_id, *, note, actor):
        self.moves.append((fulfillment_id, "delivered", note))
        return True

    async def give_up(self, fulfillment_id, *, note, actor):
        self.moves.append((fulfillment_id, "failed", note))

    async def retry(self, fulfillment_id, *, at):
        self.retries.append((fulfillment_id, at))


class Channel:
    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.sent: list[str] = []

    async def send(self, letter):
        self.sent.append(letter.fulfillment_id)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def mailer(store, channel) -> Mailer:
    return Mailer(store=store, channel=channel, retry_seconds=5.0, clock=lambda: NOW)


async def test_a_letter_channels_takes_is_delivered_with_its_message():
    letter = a_letter()
    store = MailStore(letter)
    assert await mailer(store, Channel("<m1@crs.test>")).send_due() == 1
    assert store.moves == [
        (letter.fulfillment_id, "delivered", "letter emailed to jane@example.test (message <m1@crs.test>)")
    ]


async def test_channels_away_means_a_later_try_with_a_growing_delay():
    first, third = a_letter(), a_letter(attempts=2)
    store = MailStore(first, third)
    assert (
        await mailer(store, Channel(ChannelsDown("UNAVAILABLE"), ChannelsDown("UNAVAILABLE"))).send_due() == 0
    )
    assert store.moves == []
    assert store.retries == [
        (first.fulfillment_id, NOW + timedelta(seconds=5)),
        (third.fulfillment_id, NOW + timedelta(seconds=20)),
    ]


async def test_the_mailer_gives_up_after_its_attempts_or_at_a_refusal():
    tired = a_letter(attempts=letter_mail.MAX_ATTEMPTS - 1)
    refused = a_letter()
    erased = a_letter(email_address="")
    store = MailStore(tired, refused, erased)
    channel = Channel(ChannelsDown("DEADLINE_EXCEEDED"), Refused("to_address: not an email address"))
    await mailer(store, channel).send_due()
    assert [(fid, to) for fid, to, _ in store.moves] == [
        (tired.fulfillment_id, "failed"),
        (refused.fulfillment_id, "failed"),
        (erased.fulfillment_id, "failed"),
    ]
    assert f"gave up after {letter_mail.MAX_ATTEMPTS} attempts" in store.moves[0][2]
    assert "refused" in store.moves[1][2]
    assert erased.fulfillment_id not in channel.sent
    assert store.retries == []


def test_the_delay_doubles_up_to_half_an_hour():
    assert [letter_mail.retry_delay(n, 5.0).total_seconds() for n in (1, 2, 3)] == [5.0, 10.0, 20.0]
    assert letter_mail.retry_delay(30, 5.0) == timedelta(minutes=30)


async def test_a_letter_from_a_template_not_in_use_is_refused_before_anything_is_written():
    with pytest.raises(InvalidRequest, match="no letter template 'retired-one' in use"):
        await requesting.request(
            store=Store(),
            directory=NoEmailDirectory(),
            new=validated(template="retired-one"),
            principal=Principal("ada", "agent"),
        )


async def test_a_retry_of_a_letter_already_taken_gets_it_even_if_its_template_is_retired_since():
    earlier = str(uuid.uuid4())
    retried = replace(validated(template="retired-one"), idempotency_key="key-2")
    found = await requesting.request(
        store=Store(earlier), directory=NoEmailDirectory(), new=retried, principal=Principal("ada", "agent")
    )
    assert found == earlier
