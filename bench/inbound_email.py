"""Inbound email to case: messages per second through channels' LMTP ingress, with threading, against a
large case database (contacts' cases seeded with COPY, each with its first email in channels).

.venv/bin/python bench/inbound_email.py                      # 1,000,000 cases; 2,000 messages
.venv/bin/python bench/inbound_email.py --quick              # 20,000 cases; 400 messages
.venv/bin/python bench/inbound_email.py --cases 200000 --messages 1000

Half the messages are new mail (a new sender and subject: a new case through casework), half answer a
seeded case's email by In-Reply-To (threaded onto it). Each LMTP connection delivers its share one after
another, as an MTA's lmtp transport does, on CONCURRENCY connections at once. Checked: every message
answered 250, and channels holds exactly one new inbound message for each; any other outcome fails the
run (exit 1).
"""

from __future__ import annotations

import pathlib
import sys

# ruff: noqa: E402  (the path is set before the imports, on purpose)
# Run as a script, bench/ would be first on the path and this file would hide the standard `email`.
sys.path[0] = str(pathlib.Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import os
import random
import smtplib
import time
from email.message import EmailMessage

import psycopg

from bench._common import free_port, machine, percentiles, require, run_bench
from bench.casework import seed_contacts
from services.runtime import migrate
from tests.support import infra
from tests.support.processes import ServiceProcess, stop_all

CONCURRENCY = 8


def seed_first_emails(url: str) -> float:
    """Every seeded case gets the consumer's first email, so threading looks up against all of them."""
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO channels.message (case_id, case_reference, direction, message_id, from_address,"
            " to_address, subject, thread_subject, body, delivery)"
            " SELECT id, reference, 'inbound', '<seed-' || reference || '@bench.test>',"
            " 'c' || reference || '@bench.test', 'care@crs.test', 'About my order ' || reference,"
            " 'about my order ' || reference, verbatim, 'received' FROM contacts.contact"
        )
        conn.execute("ANALYZE channels.message")
        conn.commit()
    return time.perf_counter() - started


def messages(count: int, references: list[int], seed: int = 5) -> list[bytes]:
    rng = random.Random(seed)
    built = []
    for n in range(count):
        m = EmailMessage()
        m["To"] = "care@crs.test"
        m["Message-ID"] = f"<bench-{n}@example.com>"
        if n % 2:
            reference = rng.choice(references)
            m["From"] = f"c{reference}@bench.test"
            m["Subject"] = f"Re: About my order {reference}"
            m["In-Reply-To"] = f"<seed-{reference}@bench.test>"
            m.set_content("Any news about this?")
        else:
            m["From"] = f"new{n}@example.com"
            m["Subject"] = f"Question {n} about the cereal"
            m.set_content(f"Where can I buy the 500 g box? Asking for the {n}th time.")
        built.append(m.as_bytes())
    return built


def deliver(port: int, batch: list[bytes]) -> list[float]:
    """Each message's time from DATA sent to 250 (ms); smtplib raises on any other answer."""
    took = []
    with smtplib.LMTP("127.0.0.1", port) as client:
        for raw in batch:
            started = time.perf_counter()
            client.sendmail("sender@example.com", ["care@crs.test"], raw)
            took.append((time.perf_counter() - started) * 1000)
    return took


def inbound_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM channels.message WHERE direction = 'inbound'").fetchone()[0]


async def measure(url: str, lmtp_port: int, total: int) -> None:
    with psycopg.connect(url) as conn:
        references = [
            r for (r,) in conn.execute("SELECT reference FROM contacts.contact ORDER BY random() LIMIT 5000")
        ]
    before = inbound_count(url)
    warm = messages(20, references, seed=9)
    await asyncio.to_thread(deliver, lmtp_port, [raw.replace(b"<bench-", b"<warm-") for raw in warm])
    batch = messages(total, references)
    shares = [batch[i::CONCURRENCY] for i in range(CONCURRENCY)]
    started = time.perf_counter()
    answered = await asyncio.gather(*(asyncio.to_thread(deliver, lmtp_port, share) for share in shares))
    took = time.perf_counter() - started
    latencies = [ms for share in answered for ms in share]
    require(len(latencies) == total, f"{len(latencies)} of {total} accepted")
    added = inbound_count(url) - before - len(warm)
    require(added == total, f"{added} inbound messages on cases for {total} delivered")
    print(f"inbound email to case over LMTP: {total:,} messages in {took:.1f}s = {total / took:.0f}/s "
          f"(half new cases, half threaded by In-Reply-To; {CONCURRENCY} connections)")  # fmt: skip
    cut = percentiles(latencies, what="messages")
    print("per message, sent to 250: " + ", ".join(f"{k} {v:.1f} ms" for k, v in cut.items()))


async def main_async() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cases", type=int, help="cases in the database (default 1,000,000; --quick 20,000)")
    parser.add_argument("--messages", type=int, help="messages delivered (default 2,000; --quick 400)")
    args = parser.parse_args()
    cases = args.cases or (20_000 if args.quick else 1_000_000)
    total = args.messages or (400 if args.quick else 2_000)
    print(f"{machine()}; load average {os.getloadavg()[0]:.1f}", flush=True)
    name = infra.unique_name("crs_bench_email")
    url = infra.create_database(name)
    vhost = infra.unique_name("crs-bench")
    amqp_url = infra.create_vhost(vhost)
    started: list[ServiceProcess] = []
    try:
        migrate.migrate_all(url)
        print(f"seeded {cases:,} cases with COPY in {seed_contacts(url, cases):.0f}s", flush=True)
        print(f"and their first emails in {seed_first_emails(url):.0f}s", flush=True)
        contacts_port, channels_port, lmtp_port = free_port(), free_port(), free_port()
        env = {
            **os.environ,
            "CRS_DATABASE_URL": url,
            "CRS_AMQP_URL": amqp_url,
            "CRS_LOG_LEVEL": "WARNING",
            "CRS_CONTACTS_HTTP": f"127.0.0.1:{free_port()}",
            "CRS_CONTACTS_GRPC": f"127.0.0.1:{contacts_port}",
            "CRS_CHANNELS_GRPC": f"127.0.0.1:{channels_port}",
            "CRS_CHANNELS_SMTP_BIND": f"127.0.0.1:{free_port()}",
            "CRS_CHANNELS_LMTP_BIND": f"127.0.0.1:{lmtp_port}",
            "CRS_CHANNELS_SINK_BIND": f"127.0.0.1:{free_port()}",
            "CRS_CHANNELS_SINK_DIR": str(
                pathlib.Path(infra.__file__).parent / ".." / ".." / "var" / "bench-sink"
            ),
            "CRS_CHANNELS_CHAT_BIND": f"127.0.0.1:{free_port()}",
            "CRS_CHANNELS_CHAT_DEMO_BIND": f"127.0.0.1:{free_port()}",
            "CRS_CHANNELS_FROM": "care@crs.test",
            "CRS_CONTACTS_METRICS_PORT": "0",
            "CRS_CHANNELS_METRICS_PORT": "0",
        }
        started.append(ServiceProcess("services.contacts", env).start(wait_port=contacts_port))
        started.append(ServiceProcess("services.channels", env).start(wait_port=lmtp_port))
        await measure(url, lmtp_port, total)
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        try:
            stop_all(started)
        except AssertionError as exc:
            require(False, f"a service did not stop cleanly: {exc}")
        finally:
            infra.drop_database(name)
            infra.delete_vhost(vhost)


def main() -> None:
    asyncio.run(main_async())


if __name__ == "__main__":
    run_bench(main)
