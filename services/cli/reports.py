"""`crs insights report NAME [--by team|agent|channel|issue] [--since DATE] [--until DATE] [--csv|--json]`:
an operational report (docs/insights.md), as an aligned table, CSV (cells safe for a spreadsheet) or JSON
(a row per group, the columns by name, null for a figure with nothing to measure)."""

from __future__ import annotations

import json
import math
import sys

from crs.insights.v1 import insights_pb2 as pb

from services.cli.insights import _options, call, guarded
from services.insights.domain.reports import GROUPINGS, REPORTS
from services.runtime import csv_safe


def _shown(value: float) -> str:
    return "" if math.isnan(value) else f"{value:g}"


def report(args) -> int:
    request = pb.GetReportRequest(
        name=args.name, by=args.by or "", since=args.since or "", until=args.until or ""
    )
    found = call(args, "GetReport", request)
    header = [found.by or "group", *found.columns]
    if args.json:
        rows = [
            {
                header[0]: r.key,
                **{c: None if math.isnan(v) else v for c, v in zip(found.columns, r.values, strict=True)},
            }
            for r in found.rows
        ]
        print(json.dumps({"report": found.name, "title": found.title, "by": found.by, "rows": rows}))
        return 0
    if args.csv:
        csv_safe.write(sys.stdout, header, ([r.key, *r.values] for r in found.rows))
        return 0
    lines = [header, *([r.key, *(_shown(v) for v in r.values)] for r in found.rows)]
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    print(found.title)
    for line in lines:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
    return 0


def add_to(actions) -> None:
    """`insights report`, under `crs insights` (not a command of its own, so not named register)."""
    reporting = actions.add_parser("report", help="an operational report: " + ", ".join(REPORTS))
    reporting.add_argument("name", choices=tuple(REPORTS))
    reporting.add_argument("--by", choices=[g for g in GROUPINGS if g], help="group by")
    reporting.add_argument("--since", metavar="DATE", help="cases created (answers given) on or after it")
    reporting.add_argument("--until", metavar="DATE", help="... and on or before it")
    reporting.add_argument("--csv", action="store_true", help="print CSV")
    _options(reporting)
    reporting.set_defaults(func=guarded(report))
