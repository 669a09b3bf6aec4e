"""Outreach's email through a real channels process to its development mail sink, on real PostgreSQL.

SendNotice(s) is called as outreach's own identity (its certificate) through the `Notices` adapter: a notice
reaches the sink with the RFC 8058 headers, the same key twice is one mail, a bad address refuses only its
notice. A running campaign's sender rounds, on injected clocks, deliver each recipient once, and a sender
that dies between the send and the record, restarted after the lease, sends nobody a second message.
"""

from __future__ import annotations

import smtplib
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from crs.channels.v1 import channels_pb2, channels_pb2_grpc

from services.outreach.campaign_rounds import CampaignRounds
from services.outreach.campaign_sender import Notice
from services.outreach.campaigns_store import LEASE, CampaignStore
from services.outreach.notices_client import ChannelsNotices
from services.runtime import tls
from services.runtime.db import open_pool
from services.runtime.principal import Principal
from tests.support.mail_sink import channels_with_sink
from tests.support.outreach_mail import delivered, sink_mail
from tests.support.wait import async_wait_for

# Tomorrow at noon UTC: every recipient made today is due, and none is in quiet hours.
NOON = (datetime.now(UTC) + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
LINK = "https://care.example/u/{consumer}/{purpose}"


@pytest.fixture(scope="module")
def channels(service_env, tmp_path_factory):
    sink = tmp_path_factory.mktemp("notice-sink")
    with channels_with_sink(service_env, sink) as (target, smtp):
        yield target, sink, smtp


def secure_as(name: str, target: str) -> grpc.aio.Channel:
    """A channel presenting `name`'s own certificate, as that service's process does."""
    own = tls.load(name)
    return grpc.aio.secure_channel(target, grpc.ssl_channel_credentials(own.ca, own.key, own.certificate))


@pytest.fixture
async def notices(channels):
    channel = secure_as("outreach", channels[0])
    try:
        yield ChannelsNotices(channel, deadline=10)
    finally:
        await channel.close()


async def test_a_notice_reaches_the_sink_with_the_one_click_unsubscribe_headers_once_per_key(
    channels, notices, database_url
):
    _, sink, _ = channels
    run = uuid.uuid4().hex[:8]
    survey = Notice(
        f"it-{run}:survey", f"ann-{run}@example.org", "How did we do?", "Rate us: 1 2 3 4 5", "survey",
        language="fr", list_unsubscribe=f"https://care.example/u/{run}", html="<p>Rate us</p>",
    )  # fmt: skip
    refused = Notice(f"it-{run}:bad", "not an address", "Hello", "Body", "service")
    assert await notices.send([survey, refused]) == [True, False]
    assert await notices.send([survey]) == [True]  # the same key again: the first result, no second mail

    [mail] = await delivered(database_url, sink, f"it-{run}", run, 1)
    assert mail["List-Unsubscribe"] == f"<https://care.example/u/{run}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (mail["Subject"], mail["Content-Language"], mail["From"]) == (
        "How did we do?",
        "fr",
        "care@crs.test",
    )
    assert mail.get_body(("html",)).get_content().strip() == "<p>Rate us</p>"

    stub = notices.stub  # SendNotice, the single form, as outreach
    request = channels_pb2.NoticeRequest(
        idempotency_key=f"it-{run}:survey", to_address=f"ann-{run}@example.org", subject="Other", body="Other",
        purpose="service",
    )  # fmt: skip
    first = await stub.SendNotice(request, metadata=Principal("outreach", "service").metadata(), timeout=10)
    assert (first.delivery, first.refusal, first.message_id) == ("sent", "", mail["Message-ID"])
    assert len(sink_mail(sink, run)) == 1


async def test_only_outreach_itself_may_send_notices(channels):
    target, _, _ = channels
    request = channels_pb2.NoticeRequest(idempotency_key="x", to_address="a@example.org", subject="s", body="b",
                                         purpose="service")  # fmt: skip
    # The console's certificate, naming outreach, and naming a person: both refused.
    channel = secure_as("console", target)
    try:
        console = channels_pb2_grpc.ChannelsStub(channel)
        for who in (Principal("outreach", "service"), Principal("ada", "admin")):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await console.SendNotice(request, metadata=who.metadata(), timeout=10)
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        await channel.close()


class Consented:
    async def of(self, consumer_ids, now):
        return {c: (frozenset({"marketing"}), 0) for c in consumer_ids}


class Links:
    def link(self, consumer_id, purpose):
        return LINK.format(consumer=consumer_id, purpose=purpose)


class DiesBeforeRecording:
    """The sender process killed between channels taking its notices and recording them as sent."""

    def __init__(self, notices):
        self.notices = notices

    async def send(self, batch):
        await self.notices.send(batch)
        raise SystemExit("killed")


async def running_campaign(store: CampaignStore, run: str, people: int, rate: int) -> str:
    cid = await store.create(kind="marketing", name=f"it {run}", subject=f"Offer {run}", body="Body",
                             created_by="mo", rate_per_second=rate)  # fmt: skip
    await store.add_recipients(
        cid, [(str(uuid.uuid4()), f"c{i}-{run}@example.org", "UTC") for i in range(people)]
    )
    await store.move(cid, "test", tested_to="mo@example.org")
    await store.move(cid, "start")
    return cid


def rounds_of(store, notices, clock, seconds) -> CampaignRounds:
    return CampaignRounds(store, Consented(), notices, Links(), clock=lambda: clock[0],
                          monotonic=lambda: seconds[0], idle=0.01)  # fmt: skip


async def test_a_campaigns_rounds_deliver_each_recipient_once_and_a_restart_after_the_lease_sends_nobody_twice(
    channels, notices, database_url
):
    _, sink, _ = channels
    pool = await open_pool(database_url, schema="outreach", max_size=3)
    try:
        store = CampaignStore(pool)
        run = uuid.uuid4().hex[:8]
        cid = await running_campaign(store, run, people=25, rate=10)
        clock, seconds = [NOON], [0.0]

        # The first sender takes its first second's worth (10), hands them to channels and dies.
        dying = rounds_of(store, DiesBeforeRecording(notices), clock, seconds)
        with pytest.raises(SystemExit):
            await dying.tick()
        assert (await store.progress(cid)).sent == 0  # nothing recorded: the ten stay 'sending'

        # A new sender, before the lease runs out, leaves the dead one's rows alone; after it, takes them
        # again with the same keys, and channels answers with the mail it already queued.
        sender = rounds_of(store, notices, clock, seconds)
        for _ in range(5):
            seconds[0] += 1.0
            await sender.tick()
        assert (await store.progress(cid)).sent == 15
        clock[0] += LEASE + timedelta(seconds=1)
        for _ in range(5):
            seconds[0] += 1.0
            await sender.tick()
        progress = await store.progress(cid)
        assert (progress.sent, progress.remaining) == (25, 0)
        assert await store.state(cid) == "finished"

        mine = await delivered(database_url, sink, f"campaign:{cid}", run, 25)
        assert sorted(str(m["To"]) for m in mine) == sorted(f"c{i}-{run}@example.org" for i in range(25))
        assert all(m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for m in mine)
    finally:
        await pool.close()


def bounce_of(message_id: str) -> bytes:
    """A delivery report returning the headers of the message `message_id`, as an MTA sends it back."""
    return (
        b"From: MAILER-DAEMON@example.org\r\nTo: care@crs.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <bounce-" + uuid.uuid4().hex.encode() + b"@example.org>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
        b"Final-Recipient: rfc822; gone@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: care@crs.test\r\nTo: gone@example.org\r\n"
        b"Message-ID: " + message_id.encode() + b"\r\n\r\n--b--\r\n"
    )


async def test_a_bounced_notice_answers_failed_to_its_key(channels, notices, database_url):
    _, sink, smtp = channels
    run = uuid.uuid4().hex[:8]
    notice = Notice(f"it-{run}:gone", f"gone-{run}@example.org", "Your parcel", "It has shipped.", "service")
    assert await notices.send([notice]) == [True]
    [mail] = await delivered(database_url, sink, f"it-{run}", run, 1)
    with smtplib.SMTP("127.0.0.1", smtp, timeout=10) as client:
        client.sendmail("", ["care@crs.test"], bounce_of(mail["Message-ID"]))

    request = channels_pb2.NoticeRequest(idempotency_key=notice.idempotency_key, to_address=notice.to_address,
                                         subject="s", body="b", purpose="service")  # fmt: skip

    async def failed():
        result = await notices.stub.SendNotice(
            request, metadata=Principal("outreach", "service").metadata(), timeout=10
        )
        return result if result.delivery == "failed" else None

    result = await async_wait_for(failed, timeout=20, what="the bounce on the notice")
    assert result.last_error.startswith("bounced") and len(sink_mail(sink, run)) == 1
