"""The early-warning scenario of issue 17, as casework's case events and a sales CSV.

Twelve back-dated weeks of baseline complaints and the current week: a small product (OAT-500, 100,000
units in four lots) with a cluster of foreign-object complaints on lot L3 this week; a best-seller
(CRN-1000, 10,000,000 units) with eight complaints every week, more complaints but far fewer per unit;
and three unverified web-form complaints on TEA-20.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

WEEKS = 13
CLUSTER = 8
PLASTIC = "complaint.quality.foreign_object.plastic"
TASTE = "complaint.quality.taste"


def start_of(today: date) -> date:
    return today - timedelta(days=today.weekday()) - timedelta(weeks=WEEKS - 1)


def sales_csv(today: date) -> str:
    first, last = start_of(today), today
    lines = ["sku,lot_code,region,period_start,period_end,units"]
    for lot in ("L1", "L2", "L3", "L4"):
        lines.append(f"OAT-500,{lot},IL,{first},{last},25000")
    for lot in ("B1", "B2", "B3", "B4"):
        lines.append(f"CRN-1000,{lot},IL,{first},{last},2500000")
    lines.append(f"TEA-20,T1,IL,{first},{last},10000")
    return "\n".join(lines) + "\n"


def case(
    sku: str, lot: str, issue: str, received: date, *, channel: str = "phone", verified: bool = True
) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "consumer_id": str(uuid.uuid4()) if verified else "",
        "channel": channel,
        "product": {"sku": sku, "lot_code": lot, "purchase_location": "Springfield, IL"},
        "issue_code": issue,
        "verbatim": "found something in it",
        "occurred_at": f"{received.isoformat()}T10:00:00Z",
        "created_at": f"{today_iso()}T10:00:00Z",
        "version": 1,
    }


def today_iso() -> str:
    return date.today().isoformat()


def cases(today: date) -> list[dict]:
    """The baseline, then the cluster on OAT-500 lot L3, then the three spam submissions."""
    first = start_of(today)
    found = []
    for week in range(WEEKS):
        monday = first + timedelta(weeks=week)
        for i in range(8):
            found.append(case("CRN-1000", f"B{i % 4 + 1}", TASTE, monday + timedelta(days=i % 5)))
        if week % 2 == 0:
            found.append(case("OAT-500", f"L{week // 2 % 4 + 1}", TASTE, monday + timedelta(days=1)))
    for i in range(CLUSTER):
        found.append(case("OAT-500", "L3", PLASTIC, today - timedelta(days=i % 2)))
    for _ in range(3):
        found.append(case("TEA-20", "T1", PLASTIC, today, channel="web", verified=False))
    return found
