"""The survey answer page under concurrent respondents: open the signed link, post the form, get thanked.

.venv/bin/python bench/survey_page.py            # 2,000 respondents, 100 at once
.venv/bin/python bench/survey_page.py --quick    # 200 respondents, 100 at once

Each respondent has a survey of their own (a resolved complaint, its CSAT claimed and sent), opens the
page (GET) and posts an answer (POST): the console's public survey routes over outreach's survey desk on
PostgreSQL, in one process. The figures are per respondent, GET + POST. Every answer must be recorded and
published once; a run that lost or doubled one fails.
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import sys
import time

# bench/ itself would come first on the path; the repository root is what imports are read from.
sys.path[0] = str(pathlib.Path(__file__).resolve().parent.parent)

import aiohttp  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402

from bench._common import machine, percentiles, require, run_bench  # noqa: E402
from tests.support.survey_harness import (  # noqa: E402
    Clock,
    Outlets,
    desk_over,
    open_store,
    outreach_database,
    published,
    sent_survey,
    survey_app,
)


async def respond(http: aiohttp.ClientSession, url: str, score: int) -> float:
    started = time.perf_counter()
    async with http.get(url) as page:
        require(page.status == 200, f"page: {page.status}")
        await page.read()
    async with http.post(url, data={"score": str(score), "comment": ""}) as sent:
        require(sent.status == 200, f"answer: {sent.status}")
        await sent.read()
    return (time.perf_counter() - started) * 1000


async def measure(url: str, respondents: int, concurrency: int) -> dict:
    store = await open_store(url, size=10)
    clock, outlets = Clock(), Outlets()
    desk = desk_over(store, clock, outlets)
    links = [
        (await sent_survey(desk, store, case_id=f"case-{n}", consumer_id=f"con-{n}"))["page"]
        for n in range(respondents)
    ]
    server = TestServer(survey_app(desk), host="127.0.0.1")
    await server.start_server()
    gate = asyncio.Semaphore(concurrency)
    try:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as http:

            async def one(n: int, token: str) -> float:
                async with gate:
                    return await respond(http, str(server.make_url(f"/s/{token}")), 1 + n % 5)

            started = time.perf_counter()
            samples = await asyncio.gather(*(one(n, t) for n, t in enumerate(links)))
            elapsed = time.perf_counter() - started
        events = await published(store)
    finally:
        await server.close()
        await store.pool.close()
    require(len(events) == respondents, f"{len(events)} answers published of {respondents}")
    return {"samples": list(samples), "elapsed": elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    respondents = 200 if args.quick else 2000
    with outreach_database("crs_surveys_bench") as url:
        result = asyncio.run(measure(url, respondents, args.concurrency))
    figures = percentiles(result["samples"], what="respondents")
    print(f"machine: {machine()}")
    print(f"respondents: {respondents:,}, {args.concurrency} at once, {result['elapsed']:.1f} s")
    print(f"answers per second: {respondents / result['elapsed']:.0f}")
    print("page + answer ms: " + ", ".join(f"{k} {v:.1f}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    run_bench(main)
