"""A marketing campaign to 10,000 consumers through a real outreach process, channels and the mail sink, with
the outreach process killed (SIGKILL) half-way: after a restart each consented consumer has exactly one
message in the sink, and none went to those who opted out or are in quiet hours.

The consumers are loaded with COPY into outreach's consumer and consent read model (the events' path is
tested on its own); the sink is counted from the To headers alone. The dead sender's lease (two minutes)
is run out in SQL, as two minutes passing would, so the restarted sender takes its rows again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg

from services.outreach.campaigns_store import CampaignStore
from services.runtime.db import open_pool
from tests.support.outreach_mail import filed, recipients
from tests.support.processes import ServiceProcess, free_port
from tests.support.wait import async_wait_for

CONSENTED, OPTED_OUT, AT_NIGHT = 8000, 1000, 1000


def zone_at(local_hour: int) -> str:
    """A fixed-offset zone where it is now `local_hour` o'clock (Etc/GMT-N is N hours east of UTC)."""
    offset = (local_hour - datetime.now(UTC).hour) % 24
    offset = offset - 24 if offset > 12 else offset
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


def load(database_url: str, run: str) -> dict[str, list[tuple[str, str, str]]]:
    """The three groups as (consumer_id, email, time_zone), in outreach's read model by COPY."""
    day, night = zone_at(12), zone_at(2)
    groups = {
        name: [(str(uuid.uuid4()), f"{name}{i}-{run}@example.org", zone) for i in range(count)]
        for name, count, zone in (("yes", CONSENTED, day), ("no", OPTED_OUT, day), ("night", AT_NIGHT, night))
    }
    now = datetime.now(UTC)
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY outreach.consumer (consumer_id, email, language, time_zone, updated_at) FROM STDIN"
        ) as copy:
            for rows in groups.values():
                for consumer_id, address, zone in rows:
                    copy.write_row((consumer_id, address, "en", zone, now))
        with cur.copy(
            "COPY outreach.consent (consumer_id, purpose, channel, granted, source, changed_by, changed_at)"
            " FROM STDIN"
        ) as copy:
            for name, rows in groups.items():
                granted = name != "no"
                source = "web_form" if granted else "unsubscribe_link"
                for consumer_id, _, _ in rows:
                    copy.write_row((consumer_id, "marketing", "email", granted, source, "consumer", now))
    return groups


def sent(database_url: str, campaign_id: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM outreach.campaign_recipient WHERE campaign_id = %s AND status = 'sent'",
            (campaign_id,),
        ).fetchone()[0]


def run_out_leases(database_url: str, campaign_id: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(
            "UPDATE outreach.campaign_recipient SET claimed_until = now() - interval '1 second'"
            " WHERE campaign_id = %s AND status = 'sending'",
            (campaign_id,),
        ).rowcount


async def test_a_campaign_to_10000_consumers_killed_half_way_sends_each_consented_consumer_one_message(
    mail_path,
):
    run = uuid.uuid4().hex[:8]
    database_url = mail_path.database_url
    groups = load(database_url, run)
    pool = await open_pool(database_url, schema="outreach", max_size=2)
    try:
        store = CampaignStore(pool)
        cid = await store.create(kind="marketing", name=f"spring {run}", subject="Spring offer", body="Body",
                                 created_by="mo", rate_per_second=2000)  # fmt: skip
        await store.add_recipients(cid, [row for rows in groups.values() for row in rows])
        await store.move(cid, "test", tested_to="mo@example.org")
    finally:
        await pool.close()

    port = free_port()
    env = dict(mail_path.env, CRS_OUTREACH_GRPC=f"127.0.0.1:{port}", CRS_CHANNELS_GRPC=mail_path.channels,
               CRS_OUTREACH_SENDER_IDLE="0.2")  # fmt: skip
    sender = ServiceProcess("services.outreach", env).start(wait_port=port)
    try:
        pool = await open_pool(database_url, schema="outreach", max_size=2)
        try:
            await CampaignStore(pool).move(cid, "start")
        finally:
            await pool.close()
        await async_wait_for(
            _at_least(database_url, cid, CONSENTED // 2),
            timeout=40,
            interval=0.05,
            what="half the campaign sent",
        )
        sender.process.kill()  # SIGKILL: no drain, whatever it had claimed stays 'sending'
    finally:
        sender.stop(expect=None)
    assert sender.process.returncode == -9
    assert sent(database_url, cid) < CONSENTED

    run_out_leases(database_url, cid)
    restarted = ServiceProcess("services.outreach", env).start(wait_port=port)
    try:
        counts = await async_wait_for(
            _sink_holds(mail_path.sink, run, CONSENTED),
            timeout=60,
            interval=0.5,
            what="every consented consumer's message",
        )
    finally:
        restarted.stop()
    assert set(counts.values()) == {1}
    assert set(counts) == {address for _, address, _ in groups["yes"]}


def _at_least(database_url: str, campaign_id: str, count: int):
    async def check():
        return sent(database_url, campaign_id) >= count

    return check


def _sink_holds(sink, run: str, count: int):
    """The sink's count per address of `run`, once it holds `count` messages (headers read only then)."""

    async def check():
        if filed(sink) < count:
            return None
        found = recipients(sink, run)
        return found if sum(found.values()) >= count else None

    return check
