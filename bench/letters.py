"""Letters rendered per second per core: the worker's print step, template to PDF, without the database.

    .venv/bin/python bench/letters.py                  # 200 letters in one process
    .venv/bin/python bench/letters.py --quick          # 40 letters
    .venv/bin/python bench/letters.py --processes 2    # that many letters in each of two processes

It reads the standard letters as migrated (a throwaway database), then renders them with
`services.fulfillment.letters.render` in turn in English, French and Japanese, for a consumer in the
United States, France and Japan, each listing two coupons as enclosures, after three warm-up letters
(the first loads the fonts). Every PDF must start as one; one in ten is read back with pypdf and must
hold its subject and its postcode. Per core is what one process renders per second of its own CPU time;
the wall-clock rate of all the processes together (start-up and warm-up left out) beside it.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import pathlib
import sys
import time
from datetime import date

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import machine, percentiles, require, run_bench  # noqa: E402
from services.fulfillment import letters  # noqa: E402
from services.runtime import db, migrate  # noqa: E402
from tests.support import infra  # noqa: E402

WARM_UP = 3
CONSUMERS = {
    "en": (
        "Ada Lovelace",
        {
            "country_code": "US",
            "street_address": "5 Elm St",
            "city": "Boston",
            "country_area": "MA",
            "postal_code": "02134",
        },
    ),
    "fr": (
        "Marie Curie",
        {
            "country_code": "FR",
            "street_address": "12 rue de la Paix",
            "city": "Paris",
            "postal_code": "75002",
        },
    ),
    "ja": (
        "山田 花子",
        {
            "country_code": "JP",
            "street_address": "千代田1-1",
            "city": "千代田区",
            "country_area": "東京都",
            "postal_code": "100-0001",
        },
    ),
}
ENCLOSED = [("7KQ2-MX9D-HT4R-WB3J", 500, "USD"), ("M3PA-9X2K-QW7R-T4HB", 250, "USD")]


def templates() -> dict[str, letters.StandardLetter]:
    """The standard apology letter in each language, as the migrations seed it."""
    name = infra.unique_name("crs_bench_letters")
    url = infra.create_database(name)
    try:
        migrate.migrate_all(url)
        with db.connect(url, schema="fulfillment") as conn:
            rows = conn.execute(
                "SELECT language, subject, greeting, paragraphs, closing FROM letter_template"
                " WHERE name = 'apology'"
            ).fetchall()
    finally:
        infra.drop_database(name)
    require({r[0] for r in rows} >= set(CONSUMERS), f"apology letters found only in {[r[0] for r in rows]}")
    return {lang: letters.StandardLetter(s, g, tuple(p), c) for lang, s, g, p, c in rows}


def render_some(standard: dict[str, letters.StandardLetter], count: int, results) -> None:
    """Render `count` letters in this process; put (CPU seconds, wall seconds, per-letter ms, checked),
    or the failure's message."""
    try:
        results.put(_render_some(standard, count))
    except Exception as failure:
        results.put(f"{type(failure).__name__}: {failure}")


def _render_some(standard: dict[str, letters.StandardLetter], count: int) -> tuple:
    from pypdf import PdfReader

    languages = sorted(CONSUMERS)
    for n in range(WARM_UP):
        _render(standard, languages[n % len(languages)])
    took_ms, checked, cpu = [], 0, 0.0
    wall = time.perf_counter()
    for n in range(count):
        language = languages[n % len(languages)]
        started, cpu_started = time.perf_counter(), time.process_time()
        pdf = _render(standard, language)
        # The reading back below is the bench's check, not rendering: outside both clocks.
        cpu += time.process_time() - cpu_started
        took_ms.append((time.perf_counter() - started) * 1000)
        require(pdf.startswith(b"%PDF"), f"letter {n} is not a PDF")
        if n % 10 == 0:
            text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
            postcode = CONSUMERS[language][1]["postal_code"]
            require(standard[language].subject in text, f"letter {n} ({language}) lacks its subject")
            require(postcode in text, f"letter {n} ({language}) lacks the postcode {postcode}")
            checked += 1
    return cpu, time.perf_counter() - wall, took_ms, checked


def _render(standard: dict[str, letters.StandardLetter], language: str) -> bytes:
    name, address = CONSUMERS[language]
    return letters.render(
        standard[language],
        language=language,
        name=name,
        address=address,
        enclosures=letters.enclosure_lines(ENCLOSED),
        on=date(2026, 12, 2),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    count = 40 if args.quick else 200
    print(f"machine: {machine()}")
    standard = templates()
    # Spawned, not forked: each renders from a fresh interpreter, as a worker process would.
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    workers = [
        spawn.Process(target=render_some, args=(standard, count, results)) for _ in range(args.processes)
    ]
    for worker in workers:
        worker.start()
    done = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
        require(worker.exitcode == 0, f"a rendering process exited with {worker.exitcode}")
    failed = [d for d in done if isinstance(d, str)]
    require(not failed, f"a rendering process failed: {failed[:1]}")
    wall = max(d[1] for d in done)  # from each process's first measured letter, start-up left out
    cpu = sum(d[0] for d in done)
    took_ms = [ms for d in done for ms in d[2]]
    total = count * args.processes
    print(
        f"{total} letters (en, fr, ja in turn) in {args.processes} process(es),"
        f" {sum(d[3] for d in done)} read back and checked"
    )
    print(f"per core: {total / cpu:.1f} letters/s ({1000 * cpu / total:.1f} ms of CPU each)")
    print(f"all processes together, wall clock: {total / wall:.1f} letters/s")
    print("one letter (ms): " + "  ".join(f"{k}={v:.1f}" for k, v in percentiles(took_ms).items()))
    return 0


if __name__ == "__main__":
    run_bench(main)
