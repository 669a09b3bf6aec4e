"""The knowledge service's own memory: peak RSS of `python -m services.knowledge` at 2,000 articles.

    python -m bench.knowledge_memory [--articles N]

Starts the service as `crs run` and the tests do, on a fresh database: the first start trains the code
model from the demo verbatims (n-grams, then with embeddings); 2,000 articles (the demo's among a generated
catalogue) are published through `PutArticle`; a round of `Ask` and `SuggestCodes` follows. Then the
service is restarted on the same database, as every later start is (the stored code model and article
vectors loaded, nothing trained), and asked the same round. Each phase reports the process's VmHWM (peak
resident set) and VmRSS from /proc/PID/status. Target: ≤ 400 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import sys
import time

import psycopg

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from crs.knowledge.v1 import knowledge_pb2 as pb
from crs.knowledge.v1 import knowledge_pb2_grpc

from bench._common import free_port, machine, percentiles, require, run_bench, wait_for_port
from bench._knowledge_corpus import catalogue
from bench.knowledge import DEMO, QUESTIONS
from services.knowledge import articles
from services.knowledge.demo.verbatims import generate
from services.runtime import migrate
from services.runtime.grpcio import channel
from services.runtime.principal import Principal
from tests.support.infra import ADMIN_DATABASE_URL, with_path
from tests.support.processes import ServiceProcess

DATABASE = "crs_bench_knowledge_memory"
ADMIN = Principal("bench.admin", "admin").metadata()
AGENT = Principal("bench.agent", "agent").metadata()
TARGET_MB = 400
TRAINED = "with embeddings, promoted"


def memory_mb(pid: int) -> dict[str, float]:
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


def fresh_database() -> str:
    with psycopg.connect(ADMIN_DATABASE_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    url = with_path(ADMIN_DATABASE_URL, DATABASE)
    migrate.ensure_database(url)
    migrate.migrate_all(url)
    return url


def start(env: dict[str, str], port: int) -> ServiceProcess:
    service = ServiceProcess("services.knowledge", env).start()
    wait_for_port(port, timeout=120)
    return service


def wait_for_log(service: ServiceProcess, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in service.output():
        service.alive_or_fail()
        require(time.monotonic() < deadline, f"the service did not log {text!r} within {timeout:.0f} s")
        time.sleep(1)


async def publish(stub, count: int) -> None:
    demo = [articles.parse_markdown(p.read_text()) for p in sorted(DEMO.glob("*.md"))]
    for a in demo + catalogue(count - len(demo)):
        await stub.PutArticle(
            pb.PutArticleRequest(
                id=a.id,
                product_sku=a.product_sku,
                kind=a.kind,
                language=a.language,
                title=a.title,
                body=a.body,
                publish=True,
            ),
            metadata=ADMIN,
            timeout=60,
        )


async def round_of_calls(stub, rounds: int) -> dict[str, list[float]]:
    """Wall time of each call over gRPC, in ms: what a caller of the service waits."""
    _, held_out = generate()
    waited: dict[str, list[float]] = {"Ask": [], "SuggestCodes": []}
    for i in range(rounds):
        question, language, _ = QUESTIONS[i % len(QUESTIONS)]
        started = time.perf_counter()
        await stub.Ask(pb.AskRequest(question=question, language=language, channel="api"), metadata=AGENT)
        waited["Ask"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        reply = await stub.SuggestCodes(
            pb.SuggestCodesRequest(verbatim=held_out[i % len(held_out)].verbatim), metadata=AGENT
        )
        if reply.codes:
            waited["SuggestCodes"].append((time.perf_counter() - started) * 1000)
    return waited


def report(phase: str, service: ServiceProcess) -> float:
    figures = memory_mb(service.process.pid)
    print(
        f"  {phase:<58} VmHWM {figures['VmHWM']:.0f} MB, VmRSS {figures['VmRSS']:.0f} MB"
        f"  (load {' / '.join(f'{x:.1f}' for x in os.getloadavg())})",
        flush=True,
    )
    return figures["VmHWM"]


async def first_round(service: ServiceProcess, port: int, count: int, rounds: int) -> float:
    chan = channel(f"127.0.0.1:{port}", default_deadline=60)
    try:
        await publish(knowledge_pb2_grpc.KnowledgeStub(chan), count)
    finally:
        await chan.close()
    report(f"{count} articles published", service)
    return await calls(service, port, rounds)


async def calls(service: ServiceProcess, port: int, rounds: int) -> float:
    chan = channel(f"127.0.0.1:{port}", default_deadline=30)
    try:
        waited = await round_of_calls(knowledge_pb2_grpc.KnowledgeStub(chan), rounds)
    finally:
        await chan.close()
    require(len(waited["SuggestCodes"]) == rounds, "some suggestions came back empty")
    for name, samples in waited.items():
        ms = percentiles(samples, what=name)
        print(f"    {name} over gRPC, p50 / p99: {ms['p50']:.1f} / {ms['p99']:.1f} ms")
    return report(f"after {rounds} asks and {rounds} suggests", service)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    print(f"machine: {machine()} (shared with other work while measuring)", flush=True)
    # The bench stands where the console stands: it calls for a person (an admin publishing, an agent).
    os.environ["CRS_TLS_IDENTITY"] = "console"
    port = free_port()
    env = {
        **os.environ,
        "CRS_DATABASE_URL": fresh_database(),
        "CRS_KNOWLEDGE_GRPC": f"127.0.0.1:{port}",
        "CRS_KNOWLEDGE_METRICS_PORT": "0",
        "CRS_LOG_LEVEL": "INFO",
    }
    env.pop("CRS_TLS_IDENTITY")  # the service names itself
    peaks = {}
    service = start(env, port)
    try:
        print("first start (trains the code model):", flush=True)
        wait_for_log(service, TRAINED, timeout=900)
        report("code model with embeddings trained", service)
        peaks["first"] = asyncio.run(first_round(service, port, args.articles, args.rounds))
    finally:
        service.stop(timeout=60)
    service = start(env, port)
    try:
        print("restart (the stored code model and article vectors loaded):", flush=True)
        report("started", service)
        peaks["restart"] = asyncio.run(calls(service, port, args.rounds))
    finally:
        service.stop(timeout=60)
    for phase, peak in peaks.items():
        print(
            f"peak RSS, {phase}: {peak:.0f} MB (target ≤ {TARGET_MB} MB: {'met' if peak <= TARGET_MB else 'NOT met'})"
        )
    return 0


if __name__ == "__main__":
    run_bench(main)
