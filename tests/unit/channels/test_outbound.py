"""An agent's reply: its threading headers, and the outbox that keeps it while the relay is down."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import dkim
import pytest

from services.channels import mail, outbound
from services.channels.dkim_sign import Signer
from services.channels.outbound import PermanentFailure, Queued, Sender, Thread
from tests.unit.channels.fakes import dkim_key

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
THREAD = Thread(
    case_id="case-1",
    reference=1042,
    consumer_address="ann@example.com",
    subject="Plastic in my cereal",
    last_message_id="<m2@example.com>",
    references=("<m1@example.com>",),
)


def test_a_reply_carries_the_threading_headers_and_the_case_reference():
    reply = outbound.compose(
        THREAD, body="We are sorry.", from_address="care@crs.localhost", domain="crs.localhost", now=NOW
    )
    sent = email.message_from_bytes(reply.mime, policy=email.policy.default)
    assert sent["In-Reply-To"] == "<m2@example.com>"
    assert sent["References"] == "<m1@example.com> <m2@example.com>"
    assert sent["Subject"] == "Re: Plastic in my cereal [Case 1042]"
    assert sent["Message-ID"].endswith("@crs.localhost>") and sent["To"] == "ann@example.com"
    # The centre's own reply, come back, is a loop and never a new case.
    assert mail.parse(reply.mime, own_domain="crs.localhost").loop


def test_an_empty_reply_is_refused():
    with pytest.raises(outbound.InvalidReply, match="1 to 20000 characters"):
        outbound.compose(THREAD, body="  ", from_address="c@x", domain="x", now=NOW)


@dataclass
class FakeOutbox:
    queued: dict[int, Queued]
    at: dict[int, datetime] = field(default_factory=dict)
    state: dict[int, str] = field(default_factory=dict)

    async def due(self, *, now, limit):
        return [q for i, q in self.queued.items() if self.state.get(i) is None and self.at.get(i, now) <= now]

    async def sent(self, message_id, *, now):
        self.state[message_id] = "sent"

    async def retry(self, message_id, *, error, at):
        q = self.queued[message_id]
        self.queued[message_id] = Queued(
            q.id, q.case_id, q.mime, q.from_address, q.to_address, q.attempts + 1
        )
        self.at[message_id] = at

    async def failed(self, message_id, *, error):
        self.state[message_id] = "failed"


class FlakyRelay:
    def __init__(self, failures: int, error: Exception | None = None):
        self.failures = failures
        self.error = error or ConnectionRefusedError("relay down")
        self.delivered: list[bytes] = []

    async def send(self, mime, *, sender, recipients):
        if self.failures:
            self.failures -= 1
            raise self.error
        self.delivered.append(mime)


async def test_a_reply_waits_while_the_relay_is_down_and_goes_when_it_is_back():
    clock = [NOW]
    outbox = FakeOutbox({7: Queued(7, "case-1", b"mime", "c@x", "ann@example.com", 0)})
    relay = FlakyRelay(failures=2)
    recorded = []

    async def on_sent(item):
        recorded.append(item.id)

    sender = Sender(store=outbox, relay=relay, on_sent=on_sent, clock=lambda: clock[0])
    assert await sender.deliver_due() == 0
    assert outbox.at[7] == NOW + timedelta(seconds=10)
    assert await sender.deliver_due() == 0  # not due yet: nothing is tried
    clock[0] = NOW + timedelta(seconds=10)
    assert await sender.deliver_due() == 0
    assert outbox.at[7] == NOW + timedelta(seconds=30)
    clock[0] = NOW + timedelta(seconds=30)
    assert await sender.deliver_due() == 1
    assert relay.delivered == [b"mime"] and outbox.state[7] == "sent" and recorded == [7]


async def test_a_permanent_refusal_is_recorded_on_the_case_and_not_retried():
    outbox = FakeOutbox({8: Queued(8, "case-1", b"mime", "c@x", "nobody@example.com", 0)})
    failures = []

    async def on_failed(item, error):
        failures.append(error)

    sender = Sender(
        store=outbox,
        relay=FlakyRelay(1, PermanentFailure("550 no such user")),
        on_failed=on_failed,
        clock=lambda: NOW,
    )
    assert await sender.deliver_due() == 0
    assert outbox.state[8] == "failed" and failures == ["refused: 550 no such user"]


def test_a_reply_is_dkim_signed_when_a_key_is_configured_and_the_signature_verifies():
    pem, dns = dkim_key("crs.localhost")
    reply = outbound.compose(
        THREAD, body="We are sorry.", from_address="care@crs.localhost", domain="crs.localhost", now=NOW
    )
    signed = Signer("crs.localhost", "crs", pem).sign(reply.mime)
    assert signed.startswith(b"DKIM-Signature: v=1; a=rsa-sha256;")
    assert dkim.verify(signed, dnsfunc=dns)
    assert not dkim.verify(signed.replace(b"We are sorry.", b"We are not sorry."), dnsfunc=dns)
