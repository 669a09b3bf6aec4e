"""Casework: intake through the console's JSON API (bearer token) and through contacts' gRPC CreateCase,
each against the raw single-row INSERT rate of the same PostgreSQL, and SearchCases latency over many
contacts seeded with COPY.

.venv/bin/python bench/casework.py            # 20,000 intakes a path; search over 1,000,000 contacts
.venv/bin/python bench/casework.py --quick    # 3,000 intakes a path; search over 100,000 contacts

Every reply is checked: an intake must come back as a created case with an id, a reference, the words
sent and the bench's agent as its creator; a search reply's cases must match its SKU, lot, issue and
dates. A failed or wrong reply is counted, and any one of them fails the run (exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import aiohttp
import grpc
import psycopg
from crs.contacts.v1 import casework_pb2 as pb
from crs.contacts.v1 import casework_pb2_grpc
from google.protobuf import timestamp_pb2

from bench._common import free_port, machine, percentiles, require, run_bench, share
from services.runtime import grpcio, migrate
from services.runtime.principal import Principal
from tests.support import infra
from tests.support.processes import ServiceProcess, stop_all

WORDS = (
    "plastic piece bowl cereal sharp blue found box bottle leaked cupboard mould green smell taste strange "
    "texture soggy crunchy label torn seal broken child sick stomach allergic rash coupon refund store "
    "bought yesterday morning opened lid metal glass insect hair"
).split()
CODES = [
    "complaint.quality.foreign_object.plastic",
    "complaint.packaging.leaking",
    "complaint.quality.taste_odour",
    "question.where_to_buy",
    "compliment.product",
    "complaint.quality.mould_spoilage",
    "suggestion.product",
]
SKUS = [f"SKU-{i:04d}" for i in range(500)]
CONCURRENCY = 32
WARM_UP = 100
AGENT = "bench"
ACTOR = Principal(username=AGENT, role="agent")


def verbatim(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))


def intake_bodies(seed: int, count: int) -> list[dict]:
    rng = random.Random(seed)
    return [
        {
            "issue_code": rng.choice(CODES[:3]),
            "channel": "email",
            "verbatim": verbatim(rng),
            "product": {"sku": rng.choice(SKUS), "lot_code": f"L{rng.randint(1, 400)}"},
        }
        for _ in range(count)
    ]


@dataclass
class Intakes:
    """How many intakes came back as the case sent, and what was wrong with the others."""

    created: int = 0
    failures: list[str] = field(default_factory=list)

    def check(self, sent: dict, reference: int, case_id: str, words: str, creator: str) -> None:
        problems = [
            what
            for what, bad in (
                ("no id", not case_id),
                ("no reference", reference <= 0),
                ("verbatim changed", words != sent["verbatim"]),
                (f"created by {creator!r}, not {AGENT!r}", creator != AGENT),
            )
            if bad
        ]
        if problems:
            self.failures.append(", ".join(problems))
        else:
            self.created += 1


async def raw_insert_rate(url: str, count: int) -> float:
    """Single-row INSERTs, each its own transaction, from CONCURRENCY connections."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS public.bench_raw (id bigserial PRIMARY KEY, body text NOT NULL)"
        )
    connections = [await psycopg.AsyncConnection.connect(url, autocommit=True) for _ in range(CONCURRENCY)]
    per = count // CONCURRENCY

    async def worker(conn):
        for _ in range(per):
            await conn.execute("INSERT INTO public.bench_raw (body) VALUES (%s)", ("x" * 200,))

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    elapsed = time.perf_counter() - started
    for conn in connections:
        await conn.close()
    return per * CONCURRENCY / elapsed


async def timed_intake(bodies: list[dict], post: Callable[[dict, Intakes], Awaitable[None]]):
    """Warm up, then CONCURRENCY intakes in flight; returns (intakes/s of the created, what came back)."""
    warm = Intakes()
    for body in bodies[:WARM_UP]:
        await post(body, warm)
    require(not warm.failures, f"warm-up intakes failed: {warm.failures[:3]}")
    queue = list(bodies[WARM_UP:])
    measured = Intakes()

    async def worker():
        while queue:
            await post(queue.pop(), measured)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return measured.created / (time.perf_counter() - started), measured


async def console_intake(base: str, token: str, bodies: list[dict]):
    """POST /api/contacts with a bearer token from `crs agent token`, as an integration does."""
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def post(body: dict, intakes: Intakes) -> None:
            try:
                async with session.post(base + "/api/contacts", json=body) as response:
                    if response.status != 201:
                        intakes.failures.append(f"HTTP {response.status}: {(await response.text())[:200]}")
                        return
                    case = await response.json()
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                intakes.failures.append(f"{type(exc).__name__}: {exc}")
                return
            intakes.check(
                body, int(case.get("reference") or 0), case.get("id", ""), case.get("verbatim", ""),
                case.get("created_by", ""),
            )  # fmt: skip

        return await timed_intake(bodies, post)


def case_message(body: dict) -> pb.Case:
    product = body["product"]
    return pb.Case(
        issue_code=body["issue_code"],
        channel=body["channel"],
        verbatim=body["verbatim"],
        product=pb.Product(sku=product["sku"], lot_code=product["lot_code"]),
    )


async def grpc_intake(target: str, bodies: list[dict]):
    """CreateCase on contacts' gRPC port, as the principal, on the runtime's channel (its default deadline)."""
    async with grpcio.channel(target) as channel:
        stub = casework_pb2_grpc.CaseworkStub(channel)

        async def post(body: dict, intakes: Intakes) -> None:
            try:
                case = await stub.CreateCase(
                    pb.CreateCaseRequest(case=case_message(body)), metadata=ACTOR.metadata()
                )
            except grpc.aio.AioRpcError as exc:
                intakes.failures.append(f"{exc.code().name}: {exc.details()}")
                return
            intakes.check(body, case.reference, case.id, case.verbatim, case.created_by)

        return await timed_intake(bodies, post)


async def outbox_drained(url: str, timeout: float = 120.0) -> float:
    """Seconds until contacts' outbox is empty; the run fails if it is not empty within `timeout`."""
    started = time.perf_counter()
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        while (await (await conn.execute("SELECT count(*) FROM contacts.outbox")).fetchone())[0]:
            require(time.perf_counter() - started < timeout, f"the outbox was not drained in {timeout:.0f}s")
            await asyncio.sleep(0.05)
    return time.perf_counter() - started


def seed_contacts(url: str, count: int) -> float:
    rng = random.Random(2)
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute("SET search_path TO contacts")
        with conn.cursor().copy(
            "COPY contact (channel, status, issue_code, severity, verbatim, language, search_config, product_sku,"
            " lot_code, occurred_at, created_at, summary) FROM STDIN"
        ) as copy:
            for _ in range(count):
                code = rng.choice(CODES)
                when = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:00:00+00"
                copy.write_row(
                    (
                        "email",
                        rng.choice(["new", "in_progress", "resolved", "closed"]),
                        code,
                        "medium",
                        verbatim(rng),
                        "en",
                        "english",
                        rng.choice(SKUS),
                        f"L{rng.randint(1, 400)}",
                        when,
                        when,
                        code,
                    )
                )
        conn.execute("ANALYZE contact")
        conn.commit()
    return time.perf_counter() - started


def stamp(text: str) -> timestamp_pb2.Timestamp:
    value = timestamp_pb2.Timestamp()
    value.FromJsonString(text)
    return value


MARCH, APRIL = stamp("2024-03-01T00:00:00Z"), stamp("2024-04-01T00:00:00Z")


def search_kinds(rng: random.Random) -> dict[str, Callable[[], pb.SearchCasesRequest]]:
    """Each query shape, named by what it filters."""
    return {
        "text (two words)": lambda: pb.SearchCasesRequest(text=" ".join(rng.sample(WORDS, 2))),
        "text + product (a word + SKU)": lambda: pb.SearchCasesRequest(
            text=rng.choice(WORDS), product=rng.choice(SKUS)
        ),
        "text + lot (a word + lot code)": lambda: pb.SearchCasesRequest(
            text=rng.choice(WORDS), lot_code=f"L{rng.randint(1, 400)}"
        ),
        "code + dates (issue subtree + one month)": lambda: pb.SearchCasesRequest(
            issue_code="complaint.quality", **{"from": MARCH}, to=APRIL
        ),
        "sku + lot": lambda: pb.SearchCasesRequest(
            product=rng.choice(SKUS), lot_code=f"L{rng.randint(1, 400)}"
        ),
    }


def mismatch(request: pb.SearchCasesRequest, case: pb.Case) -> str | None:
    """What a returned case contradicts in the filters asked for, if anything."""
    if request.product and request.product not in (case.product.sku, case.product.upc):
        return f"product {case.product.sku!r} for {request.product!r}"
    if request.lot_code and case.product.lot_code != request.lot_code:
        return f"lot {case.product.lot_code!r} for {request.lot_code!r}"
    if request.issue_code and not (case.issue_code + ".").startswith(request.issue_code + "."):
        return f"issue {case.issue_code!r} under {request.issue_code!r}"
    if request.HasField("from") and not (MARCH.seconds <= case.occurred_at.seconds < APRIL.seconds):
        return f"occurred {case.occurred_at.ToJsonString()} outside March 2024"
    return None


async def search_latency(target: str, queries: int) -> dict[str, tuple[dict[str, float], str]]:
    results = {}
    wrong: list[str] = []
    async with grpcio.channel(target) as channel:
        stub = casework_pb2_grpc.CaseworkStub(channel)
        for name, make in search_kinds(random.Random(3)).items():
            samples, found = [], 0
            for i in range(queries + 20):
                request = make()
                started = time.perf_counter()
                try:
                    reply = await stub.SearchCases(request, metadata=ACTOR.metadata())
                except grpc.aio.AioRpcError as exc:
                    wrong.append(f"{name}: {exc.code().name}: {exc.details()}")
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                wrong += [f"{name}: {m}" for c in reply.cases if (m := mismatch(request, c))][:1]
                if i >= 20:
                    samples.append(elapsed)
                    found += bool(reply.cases)
            results[name] = (percentiles(samples, what=f"search [{name}]"), share(found, queries))
    require(not wrong, f"{len(wrong)} search replies failed or wrong, e.g. {wrong[:3]}")
    return results


def bearer_token(env: dict[str, str]) -> str:
    """An agent and its API token made with the `crs agent` command, as an integration gets one."""
    crs = [sys.executable, "-m", "services.cli.main", "agent"]
    subprocess.run([*crs, "add", AGENT, "--name", "Benchmark"], env=env, check=True, capture_output=True)
    made = subprocess.run([*crs, "token", AGENT], env=env, check=True, capture_output=True, text=True)
    return made.stdout.strip()


def start_services(env: dict[str, str], grpc_port: int, console_port: int) -> list[ServiceProcess]:
    started: list[ServiceProcess] = []
    try:
        started.append(ServiceProcess("services.contacts", env).start(wait_port=grpc_port))
        started.append(ServiceProcess("services.console", env).start(wait_port=console_port))
    except BaseException:
        stop_all(started)
        raise
    return started


def report_intake(path: str, rate: float, raw: float, intakes: Intakes, drained: float, total: int) -> None:
    print(f"raw single-row INSERT ({CONCURRENCY} connections), just before: {raw:,.0f}/s")
    print(
        f"intake through {path} ({CONCURRENCY} in flight, durable, with its event): {rate:,.0f}/s"
        f" = {rate / raw:.2f}x raw; created {share(intakes.created, total)}, {len(intakes.failures)} failed;"
        f" outbox drained {drained:.1f}s after the last intake",
        flush=True,
    )


async def measure(args, url: str, env: dict[str, str], grpc_target: str, base: str) -> None:
    intakes, seeded, queries = (3_000, 100_000, 200) if args.quick else (20_000, 1_000_000, 1_000)
    token = bearer_token(env)
    failures = []
    for path, seed, run in (
        ("the console's JSON API", 1, lambda bodies: console_intake(base, token, bodies)),
        ("contacts' gRPC CreateCase", 4, lambda bodies: grpc_intake(grpc_target, bodies)),
    ):
        raw = await raw_insert_rate(url, intakes)
        rate, measured = await run(intake_bodies(seed, intakes))
        report_intake(path, rate, raw, measured, await outbox_drained(url), intakes - WARM_UP)
        failures += [f"{path}: {f}" for f in measured.failures]
    require(not failures, f"{len(failures)} intakes failed, e.g. {failures[:3]}")
    with psycopg.connect(url) as conn:
        (stored,) = conn.execute("SELECT count(*) FROM contacts.contact").fetchone()
    require(stored == 2 * intakes, f"{stored:,} cases stored after {2 * intakes:,} intakes")
    took = seed_contacts(url, seeded)
    print(f"seeded {seeded:,} contacts with COPY in {took:.0f}s", flush=True)
    for kind, (figures, found) in (await search_latency(grpc_target, queries)).items():
        print(
            f"gRPC SearchCases [{kind}] over {seeded:,}: p50 {figures['p50']:.1f} ms,"
            f" p99 {figures['p99']:.1f} ms, max {figures['max']:.1f} ms; found cases for {found} of the queries"
        )


async def main_async() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(f"{machine()}; load average {os.getloadavg()[0]:.1f}", flush=True)
    name = infra.unique_name("crs_bench_casework")
    url = infra.create_database(name)
    vhost = infra.unique_name("crs-bench")
    amqp_url = infra.create_vhost(vhost)
    started: list[ServiceProcess] = []
    try:
        migrate.migrate_all(url)
        grpc_port, console_port = free_port(), free_port()
        recordings = tempfile.mkdtemp(prefix="crs-bench-recordings-")
        env = {
            **os.environ,
            "CRS_DATABASE_URL": url,
            "CRS_AMQP_URL": amqp_url,
            "CRS_LOG_LEVEL": "WARNING",
            "CRS_CONTACTS_HTTP": f"127.0.0.1:{free_port()}",
            "CRS_CONTACTS_GRPC": f"127.0.0.1:{grpc_port}",
            "CRS_CONSOLE_HTTP": f"127.0.0.1:{console_port}",
            "CRS_CONTACTS_METRICS_PORT": "0",
            "CRS_CONSOLE_METRICS_PORT": "0",
            "CRS_RECORDINGS_URL": f"file://{recordings}",
            "CRS_AGENT_PASSWORD": "bench-password-1",
        }
        started = start_services(env, grpc_port, console_port)
        await measure(args, url, env, f"127.0.0.1:{grpc_port}", f"http://127.0.0.1:{console_port}")
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
