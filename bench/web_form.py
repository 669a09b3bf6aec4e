"""The web form's shared rate limit under load: two channels processes, one PostgreSQL bucket per client.

.venv/bin/python bench/web_form.py            # 400 clients x 8 forms, 32 in flight
.venv/bin/python bench/web_form.py --quick    # 50 clients x 8 forms, 8 in flight

Each client (a distinct X-Forwarded-For behind the trusted loopback proxy) sends its forms to the two
replicas in turn. The forms spend a token and are then refused by their topic (400), so the figures are
the form's path with its limit, without casework. Every client must get exactly the burst through and
the rest refused (429), across both replicas; one client that got more or less fails the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import aiohttp

from bench._common import bench_database, free_port, machine, percentiles, require, run_bench, wait_for_port

BURST = 5
SPENDS_A_TOKEN = {"topic": "nope", "name": "Jane", "email": "jane@example.com", "message": "hello there"}


def start_replicas(database_url: str, tmp: pathlib.Path) -> tuple[list[subprocess.Popen], list[str]]:
    processes, urls = [], []
    for replica in ("a", "b"):
        port = free_port()
        env = {
            **os.environ,
            "CRS_DATABASE_URL": database_url,
            "CRS_LOG_LEVEL": "WARNING",
            "CRS_CHANNELS_METRICS_PORT": "0",
            "CRS_CONTACTS_GRPC": f"127.0.0.1:{free_port()}",
            "CRS_KNOWLEDGE_GRPC": f"127.0.0.1:{free_port()}",
            "CRS_CHANNELS_GRPC": f"127.0.0.1:{free_port()}",
            "CRS_CHANNELS_SMTP_BIND": f"127.0.0.1:{free_port()}",
            "CRS_CHANNELS_SINK_BIND": f"127.0.0.1:{free_port()}",
            "CRS_CHANNELS_SINK_DIR": str(tmp / f"sink-{replica}"),
            "CRS_CHANNELS_CHAT_BIND": f"127.0.0.1:{free_port()}",
            "CRS_CHANNELS_CHAT_DEMO_BIND": f"127.0.0.1:{free_port()}",
            "CRS_CHANNELS_WEB_FORM_BIND": f"127.0.0.1:{port}",
            "CRS_CHANNELS_WEB_FORM_BURST": str(BURST),
            "CRS_CHANNELS_WEB_FORM_PER_MINUTE": "0.01",
            "CRS_CHANNELS_TRUSTED_PROXIES": "127.0.0.1/32",
        }
        env.pop("CRS_TLS_IDENTITY", None)
        processes.append(
            subprocess.Popen([sys.executable, "-m", "services.channels"], env=env, stdin=subprocess.DEVNULL)
        )
        wait_for_port(port)
        urls.append(f"http://127.0.0.1:{port}")
    return processes, urls


async def load(urls: list[str], *, clients: int, forms: int, in_flight: int, run: str) -> tuple[list, dict]:
    gate = asyncio.Semaphore(in_flight)
    latencies: list[float] = []
    passed: dict[str, int] = {}

    async def one_client(session: aiohttp.ClientSession, index: int) -> None:
        address = f"{run}.{index // 250}.{index % 250}"
        for n in range(forms):
            async with gate:
                started = time.perf_counter()
                async with session.post(
                    urls[n % len(urls)] + "/intake", json=SPENDS_A_TOKEN, headers={"X-Forwarded-For": address}
                ) as reply:
                    await reply.read()
                    latencies.append((time.perf_counter() - started) * 1000)
                    require(reply.status in (400, 429), f"unexpected {reply.status}")
                    passed[address] = passed.get(address, 0) + (reply.status == 400)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight)) as session:
        await asyncio.gather(*(one_client(session, i) for i in range(clients)))
    return latencies, passed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    clients, in_flight = (50, 8) if args.quick else (400, 32)
    forms = BURST + 3
    url = bench_database("crs_webform", 0)
    tmp = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / f"crs-bench-web-form-{os.getpid()}"
    load_before = os.getloadavg()[0]
    processes, urls = start_replicas(url, tmp)
    try:
        # Each run's clients are new addresses (10.x), so buckets from an earlier run do not count.
        run = f"10.{int(time.time()) % 250}"
        started = time.perf_counter()
        latencies, passed = asyncio.run(
            load(urls, clients=clients, forms=forms, in_flight=in_flight, run=run)
        )
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
    wrong = {address: n for address, n in passed.items() if n != BURST}
    require(len(passed) == clients, f"{len(passed)} clients answered of {clients}")
    require(not wrong, f"clients that got other than {BURST} forms through: {list(wrong.items())[:5]}")
    figures = percentiles(latencies, what="forms")
    print(machine())
    print(f"load average (1 min) before {load_before:.1f}, after {os.getloadavg()[0]:.1f}")
    print(f"{clients} clients x {forms} forms over 2 replicas, {in_flight} in flight: {len(latencies)} forms")
    print(f"every client got exactly {BURST} through and {forms - BURST} refused (429)")
    print(
        f"{len(latencies) / elapsed:.0f} forms/s; " + ", ".join(f"{k} {v:.1f} ms" for k, v in figures.items())
    )
    return 0


if __name__ == "__main__":
    run_bench(main)
