"""INVITE to pop: sipp rings extension 1001 through the SIP edge; a WebSocket client times each pop.

    .venv/bin/python bench/screenpop.py            # 1,000,000 consumers; 10, 50, 100, 200 calls/s for 60 s each
    .venv/bin/python bench/screenpop.py --quick    # 100,000 consumers; 10, 50, 100, 200 calls/s for 10 s each

Every service runs as its own process (contacts, billing, fulfillment, screenpop, console, telephony, kamailio),
with PostgreSQL and RabbitMQ, on this machine. Each call rings and is cancelled after a second (the
telephony service is told to answer late), so the load is the pop path, not recorded audio.

The clock starts when sipp sends the INVITE (from sipp's message trace, first transmission) and stops
when the pop frame arrives at the agent's WebSocket. A pop that has not arrived 5 s after the last call
is counted lost. The figures from telephony's receipt of the INVITE are printed beside them. A pop is full
when every source answered, degraded when screenpop shed work to send it within the ring's budget (its
`degraded` reason), partial when a source failed or missed its own deadline; the three are counted apart.

The run fails (exit 1) when sipp exits non-zero, when the trace does not show every INVITE sent, when
a pop is lost, or when nothing was timed. A degraded pop is not a failure: it was sent on time on purpose.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import aiohttp
import psycopg

from bench._common import (
    BenchFailed,
    bench_database,
    cpu_seconds_by_command,
    free_port,
    machine,
    percentiles,
    process_cpu_seconds,
    require,
    run_bench,
    share,
    wait_for_port,
)
from services.cli.call import CallPlan, scenario, sipp_command
from services.console.seed import seed_demo
from tests.integration.telephony.stack import start_edge, start_telephony
from tests.support import infra
from tests.support.processes import ServiceProcess

EXTENSION = "1001"
SETTLE_SECONDS = 5.0
TRACE_HEAD = re.compile(r"^-+ (\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}:\d{2}\.\d+)")


def unknown_number(i: int) -> str:
    return f"+1614555{i:04d}"


def caller_numbers(url: str, count: int) -> list[str]:
    """`count` callers in the order they ring: in every ten, nine seeded consumers and one nobody knows.

    sipp reads the list from the top, so a short run at a low rate rings from an unknown number as often
    as a long one: one call in ten, at a place within its ten that varies.
    """
    known_count = count - count // 10
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT e164 FROM contacts.phone_number TABLESAMPLE SYSTEM (5) LIMIT %s", (known_count,)
        ).fetchall()
        require(len(rows) == known_count, f"the directory gave {len(rows)} of {known_count} numbers")
        known = [e164 for (e164,) in rows]
        unknown = [unknown_number(i) for i in range(count // 10)]
        (listed,) = conn.execute(
            "SELECT count(*) FROM contacts.phone_number WHERE e164 = ANY(%s)", (unknown,)
        ).fetchone()
        require(listed == 0, f"{listed} of the unknown callers are in the directory")
    rng = random.Random(10)
    numbers: list[str] = []
    for start in range(0, count // 10 * 10, 10):
        ten = known[start - start // 10 : start - start // 10 + 9]
        ten.insert(rng.randrange(10), unknown[start // 10])
        numbers += ten
    return numbers


def invite_times(trace: pathlib.Path) -> dict[str, float]:
    """Call-ID -> when sipp first sent its INVITE (epoch seconds), from sipp's -trace_msg log."""
    sent: dict[str, float] = {}
    stamp = None
    outgoing = False
    is_invite = False
    for line in trace.read_text(errors="replace").splitlines():
        head = TRACE_HEAD.match(line)
        if head:
            stamp = datetime.strptime(f"{head.group(1)} {head.group(2)}", "%Y-%m-%d %H:%M:%S.%f").timestamp()
            outgoing = is_invite = False
            continue
        if "message sent" in line:
            outgoing = True
        elif line.startswith("INVITE "):
            is_invite = outgoing
        elif is_invite and line.lower().startswith("call-id:"):
            call_id = line.split(":", 1)[1].strip()
            sent.setdefault(call_id, stamp)
            is_invite = False
    return sent


async def collect_pops(
    base: str,
    pops: dict[str, tuple[float, dict]],
    *,
    expected: int,
    stop: asyncio.Event,
    ready: asyncio.Event,
    complete: asyncio.Event,
):
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/api/login", json={"username": "ada", "password": "ada-demo-1001"}) as r:
            token = (await r.json())["token"]
        async with http.ws_connect(
            base.replace("http://", "ws://") + "/ws", headers={"Authorization": f"Bearer {token}"}
        ) as ws:
            ready.set()
            while not stop.is_set():
                try:
                    message = await ws.receive(timeout=0.5)
                except TimeoutError:
                    continue
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                arrived = time.time()
                pop = json.loads(message.data)
                if pop.get("type") == "pop" and not pop.get("replay"):
                    pops.setdefault(pop["call_id"], (arrived, pop))
                    if len(pops) >= expected:
                        complete.set()


def telephony_receipt(pop: dict) -> float | None:
    stamp = pop.get("invite_received_at")
    if not stamp:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


SHARED_SERVERS = {"postgres": ("postgres",), "rabbitmq": ("beam.smp",), "kamailio": ("kamailio",)}


def cpu_snapshot(stack: dict) -> dict[str, float]:
    """CPU seconds used so far by each CRS process, and by PostgreSQL, RabbitMQ and kamailio."""
    snapshot = {name: process_cpu_seconds(pid) for name, pid in stack["pids"].items()}
    snapshot.update({name: cpu_seconds_by_command(prefixes) for name, prefixes in SHARED_SERVERS.items()})
    return snapshot


async def run_rate(stack: dict, rate: int, seconds: int, numbers: list[str], workdir: pathlib.Path) -> dict:
    calls = rate * seconds
    plan = CallPlan(
        number="bench",
        extension=EXTENSION,
        cancel_after=1.0,
        from_header="<sip:[field0]@[local_ip]:[local_port]>",
        call_id=f"bench-{rate}-{int(time.time())}",
    )
    run_dir = workdir / f"rate-{rate}"
    run_dir.mkdir()
    scenario_file = run_dir / "bench.xml"
    scenario_file.write_text(scenario(plan))
    (run_dir / "callers.csv").write_text("SEQUENTIAL\n" + "".join(f"{n};\n" for n in numbers))
    command = sipp_command(plan, scenario_file=str(scenario_file), edge=stack["edge"], calls=calls, rate=rate)
    command += [
        "-inf",
        str(run_dir / "callers.csv"),
        "-trace_msg",
        "-message_file",
        str(run_dir / "trace.log"),
    ]

    pops: dict[str, tuple[float, dict]] = {}
    stop, ready, complete = asyncio.Event(), asyncio.Event(), asyncio.Event()
    collector = asyncio.create_task(
        collect_pops(stack["base"], pops, expected=calls, stop=stop, ready=ready, complete=complete)
    )
    await asyncio.wait_for(ready.wait(), timeout=10)
    cpu_before = cpu_snapshot(stack)
    sipp = await asyncio.create_subprocess_exec(
        *command, cwd=run_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    sipp_said, _ = await sipp.communicate()
    sipp_code = sipp.returncode
    try:
        await asyncio.wait_for(complete.wait(), timeout=SETTLE_SECONDS)
    except TimeoutError:
        pass  # what has not arrived by now counts as lost
    cpu_after = cpu_snapshot(stack)
    stop.set()
    await collector

    trace = run_dir / "trace.log"
    sent = invite_times(trace) if trace.exists() else {}
    from_invite, from_receipt = [], []
    partial = degraded = named = 0
    for call_id, invited in sent.items():
        if call_id in pops:
            arrived, pop = pops[call_id]
            from_invite.append((arrived - invited) * 1000)
            received = telephony_receipt(pop)
            if received is not None:
                from_receipt.append((arrived - received) * 1000)
            degraded += bool(pop.get("degraded"))
            partial += bool(pop["partial"]) and not pop.get("degraded")
            named += bool(pop["matches"])
    problems = []
    if sipp_code != 0:
        problems.append(f"sipp exited {sipp_code}:\n{sipp_said.decode(errors='replace')[-2000:]}")
    if len(sent) != calls:
        problems.append(f"the trace {trace} shows {len(sent)} INVITEs sent of {calls} calls placed")
    return {
        "rate": rate,
        "seconds": seconds,
        "calls": calls,
        "invites_sent": len(sent),
        "pops": len(from_invite),
        "full": len(from_invite) - partial - degraded,
        "degraded": degraded,
        "partial": partial,
        "named": named,
        "lost": len(sent) - len(from_invite),
        "sipp_exit": sipp_code,
        "problems": problems,
        "invite_to_pop": from_invite,
        "telephony_to_pop": from_receipt,
        "cpu_ms_per_call": {
            name: 1000 * (cpu_after[name] - cpu_before[name]) / max(1, len(sent)) for name in cpu_before
        },
    }


def start_stack(url: str, amqp_url: str, workdir: pathlib.Path) -> tuple[dict, list]:
    ports = {
        name: free_port()
        for name in ("contacts", "contacts_http", "billing", "fulfillment", "screenpop", "console")
    }
    env = dict(
        os.environ,
        CRS_DATABASE_URL=url,
        CRS_AMQP_URL=amqp_url,
        CRS_LOG_LEVEL="WARNING",
        CRS_CONTACTS_GRPC=f"127.0.0.1:{ports['contacts']}",
        CRS_CONTACTS_HTTP=f"127.0.0.1:{ports['contacts_http']}",
        CRS_BILLING_GRPC=f"127.0.0.1:{ports['billing']}",
        CRS_FULFILLMENT_GRPC=f"127.0.0.1:{ports['fulfillment']}",
        CRS_SCREENPOP_GRPC=f"127.0.0.1:{ports['screenpop']}",
        CRS_CONSOLE_HTTP=f"127.0.0.1:{ports['console']}",
    )
    for service in ("contacts", "telephony", "screenpop", "fulfillment", "billing", "console"):
        env[f"CRS_{service.upper()}_METRICS_PORT"] = "0"
    started: list = []
    try:
        for name in ("contacts", "billing", "fulfillment", "screenpop", "console"):
            started.append(ServiceProcess(f"services.{name}", env).start(wait_port=ports[name]))
        wait_for_port(ports["console"])
        edge, edge_address = start_edge(workdir, pike_density=100_000)
        started.append(edge)
        # Answer late, so every call is cancelled while it rings: the load is the pop path.
        telephony = start_telephony(
            workdir, amqp_url=amqp_url, edge=edge_address, CRS_ANSWER_DELAY_SECONDS="30"
        )
        started.append(telephony.process)
    except BaseException:
        stop_stack(started)
        raise
    pids = {process.module.rsplit(".", 1)[-1]: process.process.pid for process in started[:5]}
    pids["telephony"] = telephony.process.popen.pid
    return {"base": f"http://127.0.0.1:{ports['console']}", "edge": edge_address, "pids": pids}, started


def stop_stack(started: list) -> None:
    for process in reversed(started):
        try:
            process.stop()
        except AssertionError as exc:
            print(f"warning: {exc}", file=sys.stderr)


async def main_async(args) -> int:
    consumers = 100_000 if args.quick else 1_000_000
    seconds = args.seconds or (10 if args.quick else 60)
    url = bench_database(f"crs_bench_{consumers}", consumers)
    seed_demo(url)
    numbers = caller_numbers(url, 5000)
    require(max(args.rates) * seconds <= len(numbers), f"at most {len(numbers)} calls a rate")
    vhost = infra.unique_name("crs-bench")
    amqp_url = infra.create_vhost(vhost)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="crs-bench-screenpop-"))
    stack, started = start_stack(url, amqp_url, workdir)
    results = []
    try:
        for rate in args.rates:
            result = await run_rate(stack, rate, seconds, numbers, workdir)
            results.append(result)
            report(result)
            if result["problems"]:
                break
    finally:
        stop_stack(started)
        infra.delete_vhost(vhost)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}; consumers {consumers:,}")
    for result in results:
        if result["problems"]:
            raise BenchFailed(f"{result['rate']} calls/s: " + "; ".join(result["problems"]))
    lost = [f"{r['rate']} calls/s: {r['lost']} lost" for r in results if r["lost"]]
    require(not lost, "pops lost: " + "; ".join(lost))
    return 0


def report(result: dict) -> None:
    """Print one rate's figures; fail, after printing what there is, when the run did not do its work."""
    label = f"{result['rate']} calls/s"
    print(
        f"{result['rate']:>4} calls/s x {result['seconds']} s: {result['invites_sent']} INVITEs, "
        f"{result['pops']} pops ({result['full']} full, {result['degraded']} degraded, "
        f"{result['partial']} partial), {result['lost']} lost "
        f"(sipp exit {result['sipp_exit']}); pops naming a consumer: {share(result['named'], result['pops'])}",
        flush=True,
    )
    if not result["invite_to_pop"]:
        return  # nothing timed: main fails the run on the problems

    def row(samples: list[float], what: str) -> str:
        figures = percentiles(samples, what=f"{label}: {what}")
        return " / ".join(f"{figures[k]:.1f}" for k in ("p50", "p95", "p99", "max"))

    print(
        f"     INVITE sent -> pop at socket, ms p50/p95/p99/max: {row(result['invite_to_pop'], 'pops timed')}\n"
        f"     telephony receipt -> pop, ms p50/p95/p99/max:     "
        f"{row(result['telephony_to_pop'], 'pops with a receipt time')}\n"
        f"     CPU per call, ms: "
        + ", ".join(
            f"{name} {ms:.1f}"
            for name, ms in sorted(result["cpu_ms_per_call"].items(), key=lambda kv: -kv[1])
        )
        + f" (total {sum(result['cpu_ms_per_call'].values()):.1f})",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="100,000 consumers and 10 s per rate")
    parser.add_argument(
        "--rates", type=int, nargs="+", default=[10, 50, 100, 200], help="call attempts per second"
    )
    parser.add_argument(
        "--seconds", type=int, default=0, help="seconds per rate (default 60, or 10 with --quick)"
    )
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    run_bench(main)
