"""Demo data for `crs seed --demo`: a year of units sold and of coded contacts, with one planted lot problem,
so that after `make run` the early warning has an alert and the dashboard has something to draw.

The contacts are insights' own read model only (coded facts, no personal data, as every contact insights
holds): casework holds no cases behind them, so the dashboard's drill-down lists them without a case.
They are logged in `event_log` with the source "demo", so a rebuild keeps them; their verbatims
(seed_verbatims.py) go straight to `contact_verbatim`, for the themes. Running it again changes
nothing. The planted problem: plastic found in the oats of the lot sold a month ago, reported over the last
two weeks, some of it today.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from services.insights import seed_reports
from services.insights.domain import aggregates
from services.insights.domain import work as worked
from services.insights.domain.facts import ContactFact, to_record
from services.insights.domain.sales import monday
from services.insights.seed_verbatims import verbatim_of
from services.runtime import db

SCHEMA = "insights"
NAMESPACE = uuid.UUID("4b1f0c52-8f0e-4d6b-a1f7-17c0a5e1d217")
WEEKS = 52
LOT_WEEKS = 4
SOURCE = "demo"
PLANTED_SKU = "FD-OAT-500"
PLANTED_CODE = "complaint.quality.foreign_object.plastic"
PLANTED_CONTACTS = 16
PLANTED_TODAY = 6


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    lot_prefix: str
    regions: tuple[str, ...]
    weekly_units: int  # per region
    cpmu: float  # the usual complaints per million units


PRODUCTS = (
    DemoProduct("FD-OAT-500", "OAT", ("IL", "OH", "NY"), 2_000, 400.0),
    DemoProduct("FD-CRN-500", "CRN", ("IL", "OH", "NY"), 60_000, 40.0),
    DemoProduct("BV-COF-250", "COF", ("IL", "NY"), 5_000, 200.0),
    DemoProduct("FD-PB-340", "PB", ("IL", "OH", "NY"), 8_000, 100.0),
)
COMPLAINTS = {
    "complaint.quality.taste_odour": 0.30,
    "complaint.quality.texture": 0.15,
    "complaint.quality.mould_spoilage": 0.10,
    "complaint.quality.foreign_object.hair": 0.05,
    "complaint.packaging.damaged": 0.15,
    "complaint.packaging.leaking": 0.10,
    "complaint.packaging.under_filled": 0.10,
    "complaint.illness_injury.illness": 0.05,
}
# Other contacts, as a share of a week's complaints: questions and praise.
OTHERS = {
    "question.where_to_buy": 0.6,
    "question.how_to_use": 0.4,
    "question.ingredients": 0.3,
    "compliment.product": 0.5,
    "compliment.service": 0.15,
    "suggestion.product": 0.1,
}
CHANNELS = {"phone": 0.5, "email": 0.2, "web": 0.2, "letter": 0.05, "chat": 0.05}


def _lot(product: DemoProduct, first: date, day: date) -> str:
    return f"{product.lot_prefix}-{(day - first).days // (7 * LOT_WEEKS) + 1:02d}"


def sales_rows(today: date) -> list[tuple]:
    """(sku, lot, region, start, end, units): each lot sold over its four weeks, in each region."""
    first = monday(today) - timedelta(weeks=WEEKS - 1)
    rows = []
    for p in PRODUCTS:
        start = first
        while start <= today:
            end = min(start + timedelta(weeks=LOT_WEEKS) - timedelta(days=1), today)
            units = p.weekly_units * ((end - start).days + 1) // 7
            rows += [(p.sku, _lot(p, first, start), r, start, end, units) for r in p.regions]
            start += timedelta(weeks=LOT_WEEKS)
    return rows


def contacts(today: date) -> list[ContactFact]:
    rng = np.random.default_rng(17)
    first = monday(today) - timedelta(weeks=WEEKS - 1)
    channels, channel_p = list(CHANNELS), list(CHANNELS.values())
    found: list[ContactFact] = []

    def add(p: DemoProduct, code: str, day: date, region: str, lot: str) -> None:
        channel = str(rng.choice(channels, p=channel_p))
        on_file = channel != "web" or bool(rng.random() < 0.5)
        ident = str(uuid.uuid5(NAMESPACE, f"{len(found)}"))
        found.append(ContactFact(ident, p.sku, lot, region, code, channel, day, on_file))

    for week in range(WEEKS):
        start = first + timedelta(weeks=week)
        season = 1 + 0.3 * math.sin(2 * math.pi * week / 52)
        for p in PRODUCTS:
            expected = p.cpmu * p.weekly_units * len(p.regions) * season / 1e6
            for code, share in {**COMPLAINTS, **OTHERS}.items():
                for _ in range(rng.poisson(expected * share)):
                    day = min(start + timedelta(days=int(rng.integers(0, 7))), today)
                    region = str(rng.choice(p.regions))
                    # A complaint names the lot on the pack: one bought in the last few weeks.
                    bought = max(first, day - timedelta(days=int(rng.integers(0, 35))))
                    add(p, code, day, region, _lot(p, first, bought) if code.startswith("complaint") else "")
    oats = next(p for p in PRODUCTS if p.sku == PLANTED_SKU)
    planted_lot = _lot(oats, first, monday(today) - timedelta(weeks=LOT_WEEKS))
    for n in range(PLANTED_CONTACTS):
        # Some today, whatever the day of the week, so that the current week shows it too.
        day = today if n < PLANTED_TODAY else today - timedelta(days=1 + n % 9)
        add(oats, PLANTED_CODE, day, oats.regions[n % 2], planted_lot)
    return found


def seed_demo(database_url: str, today: date | None = None) -> None:
    today = today or date.today()
    with db.connect(database_url, schema=SCHEMA) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM event_log WHERE source = %s LIMIT 1", (SOURCE,))
        if cur.fetchone():
            return
        cur.executemany(
            "INSERT INTO sales (sku, lot_code, region, period_start, period_end, units, source, imported_by)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [(*row, SOURCE, SOURCE) for row in sales_rows(today)],
        )
        facts = contacts(today)
        cur.executemany(
            "INSERT INTO event_log (event_id, source, type, occurred_at, data) VALUES (%s, %s, %s, %s, %s)",
            [
                (f.contact_id, SOURCE, "contact_created", f.received_on, json.dumps(to_record(f, 1)))
                for f in facts
            ],
        )
        cur.executemany(
            "INSERT INTO contact (contact_id, version, sku, lot_code, region, issue_code, channel,"
            " received_on, consumer_on_file) VALUES (%s, 1, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (contact_id) DO NOTHING",
            [
                (f.contact_id, f.sku, f.lot_code, f.region, f.issue_code, f.channel, f.received_on,
                 f.consumer_on_file)
                for f in facts
            ],
        )  # fmt: skip
        _seed_cells(cur, facts)
        _seed_reports(cur, today)
        worded = [(f.contact_id, *verbatim_of(f)) for f in facts]
        cur.executemany(
            "INSERT INTO contact_verbatim (contact_id, version, language, verbatim) VALUES (%s, 1, %s, %s)"
            " ON CONFLICT (contact_id) DO NOTHING",
            [row for row in worded if row[2]],
        )
        conn.commit()


def _seed_cells(cur, facts: list[ContactFact]) -> None:
    """The contact cells the early warning reads (aggregates.py), as taking each contact would move them."""
    cells: dict = {}
    for f in facts:
        aggregates.apply(cells, aggregates.moves(None, f))
    cur.executemany(
        "INSERT INTO contact_cell (sku, lot_code, region, issue_code, channel, received_on, week, contacts, weight)"
        " VALUES (%s, %s, %s, %s, %s, %s, date_trunc('week', %s::date)::date, %s, %s)",
        [(*c.key, c.received_on, c.contacts, c.weight) for c in cells.values()],
    )


def _seed_reports(cur, today: date) -> None:
    """The operational reports' demo: cases as the team worked them and their consumers' answers."""
    cases, ratings = seed_reports.demo(today)
    cur.executemany(
        "INSERT INTO event_log (event_id, source, type, occurred_at, data) VALUES (%s, %s, %s, %s, %s)",
        [(w.case_id, SOURCE, "contact_updated", w.created_at, json.dumps({"work": worked.to_record(w)}))
         for w in cases]
        + [(r.answer_id, SOURCE, "survey_answered", r.answered_at,
            json.dumps({"rating": worked.to_record(r)})) for r in ratings],
    )  # fmt: skip
    cur.executemany(
        "INSERT INTO case_work (version, case_id, team, agent, channel, issue_code, created_at, stage,"
        " escalated, calls, first_response_seconds, resolution_seconds, sla_breach)"
        " VALUES (1, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        [(w.case_id, w.team, w.agent, w.channel, w.issue_code, w.created_at, w.stage, w.escalated, w.calls,
          w.first_response_seconds, w.resolution_seconds, w.sla_breach) for w in cases],
    )  # fmt: skip
    cur.executemany(
        "INSERT INTO survey_rating (answer_id, case_id, kind, score, answered_at, team, agent, channel)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        [(r.answer_id, r.case_id, r.kind, r.score, r.answered_at, r.team, r.agent, r.channel)
         for r in ratings],
    )  # fmt: skip
