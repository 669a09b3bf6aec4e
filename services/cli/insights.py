"""`crs sales import FILE`, `crs insights alerts [--since DATE] [--json]`, `crs insights cpmu [--by ...]`
and `crs insights move ID STATUS` (`crs insights report` is in reports.py).

The sales CSV has a header and the columns `sku, lot_code, region, period_start, period_end, units`
(lot_code may be empty). Every line is checked before anything is sent; each bad line is named with why.
The person acting is `--as USER` in `--role` (analyst by default: quality assurance), as in fulfilment.
"""

from __future__ import annotations

import csv
import getpass
import json
import pathlib
import sys

import grpc
from crs.insights.v1 import insights_pb2 as pb
from crs.insights.v1 import insights_pb2_grpc
from google.protobuf import json_format

from services.cli import operator
from services.insights.domain.sales import COLUMNS, InvalidSales, parse_rows
from services.runtime.grpcio import blocking_channel
from services.runtime.principal import ROLES, Principal
from services.runtime.settings import grpc_target

TIMEOUT = 30.0
BATCH = 10_000
LISTED = ("sku", "lot_code", "region", "issue_code", "method", "observed", "expected", "score", "status")


class CliError(Exception):
    pass


def call(args, method: str, request, stub_of=insights_pb2_grpc.InsightsStub):
    who = Principal(username=args.actor or getpass.getuser(), role=args.role or "analyst")
    try:
        operator.require(args, who)
    except operator.Refused as refusal:
        raise CliError(f"refused: {refusal}") from None
    stub = stub_of(blocking_channel(args.target or grpc_target("insights")))
    try:
        return getattr(stub, method)(request, metadata=who.metadata(), timeout=TIMEOUT)
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.UNAVAILABLE:
            raise CliError(
                f"the insights service does not answer ({exc.details()}); is it running?"
            ) from None
        raise CliError(f"{exc.code().name.lower().replace('_', ' ')}: {exc.details()}") from None


def read_sales(path: str) -> list[pb.SalesRow]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise CliError(f"{path}: the header lacks {', '.join(missing)} (wants {', '.join(COLUMNS)})")
        rows = list(reader)
    if not rows:
        raise CliError(f"{path}: no sales lines after the header")
    try:
        parsed = parse_rows(rows)
    except InvalidSales as exc:
        raise CliError(f"{path}: nothing imported\n{exc}") from None
    return [
        pb.SalesRow(
            sku=r.sku, lot_code=r.lot_code, region=r.region, period_start=r.period_start.isoformat(),
            period_end=r.period_end.isoformat(), units=r.units,
        )
        for r in parsed
    ]  # fmt: skip


def import_sales(args) -> int:
    rows = read_sales(args.file)
    done = 0
    for start in range(0, len(rows), BATCH):
        request = pb.ImportSalesRequest(rows=rows[start : start + BATCH], source=pathlib.Path(args.file).name)
        done += call(args, "ImportSales", request).rows
    print(json.dumps({"rows": done}) if args.json else f"imported {done} sales lines")
    return 0


def alerts(args) -> int:
    found = call(
        args, "ListAlerts", pb.ListAlertsRequest(since=args.since or "", status=args.status or "")
    ).alerts
    if args.json:
        shown = [json_format.MessageToDict(a, preserving_proto_field_name=True) for a in found]
        print(json.dumps([{k: a.get(k, "" if k not in ("observed", "expected", "score") else 0) for k in LISTED}
                          | {"id": a["id"], "contact_ids": a.get("contact_ids", []),
                             "first_raised_at": a["first_raised_at"]} for a in shown]))  # fmt: skip
        return 0
    for a in found:
        print(
            f"{a.first_raised_at[:10]} {a.status:<13} {a.method:<15} {a.sku} {a.lot_code or '-'} "
            f"{a.region or '*'} {a.issue_code}  {a.observed:g} vs {a.expected:.2f} ({a.score:.4g})  {a.id}"
        )
    return 0


CPMU_COLUMNS = (
    "sku",
    "lot_code",
    "region",
    "period",
    "contacts",
    "contacts_counted",
    "units",
    "cpmu",
    "no_sales",
)


def cpmu(args) -> int:
    request = pb.GetCpmuRequest(by=args.by, issue_code=args.issue_code or "", since=args.since or "")
    rows = call(args, "GetCpmu", request).rows
    if args.json:
        print(json.dumps([{c: getattr(r, c) for c in CPMU_COLUMNS} for r in rows]))
        return 0
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(CPMU_COLUMNS)
    for r in rows:
        out.writerow([getattr(r, c) for c in CPMU_COLUMNS])
    return 0


def move(args) -> int:
    moved = call(args, "MoveAlert", pb.MoveAlertRequest(id=args.id, status=args.status, reason=args.reason))
    print(f"{moved.id} is {moved.status}")
    return 0


def guarded(func):
    def run(args) -> int:
        try:
            return func(args)
        except (CliError, OSError) as exc:
            print(f"crs: {exc}", file=sys.stderr)
            return 1

    return run


def _options(parser) -> None:
    parser.add_argument("--target", help="insights gRPC address (default CRS_INSIGHTS_GRPC)")
    parser.add_argument("--as", dest="actor", metavar="USER", help="who is acting (default: your login)")
    parser.add_argument("--role", choices=ROLES, help="the acting person's role (default analyst)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def register(subparsers) -> None:
    sales = subparsers.add_parser("sales", help="units sold, for complaints per million units")
    sales_actions = sales.add_subparsers(dest="action", required=True, metavar="ACTION")
    importing = sales_actions.add_parser("import", help="import a sales CSV")
    importing.add_argument("file")
    _options(importing)
    importing.set_defaults(func=guarded(import_sales))

    insights = subparsers.add_parser("insights", help="early-warning alerts")
    actions = insights.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("alerts", help="list alerts")
    listing.add_argument("--since", metavar="DATE", help="first raised on or after YYYY-MM-DD")
    listing.add_argument("--status", help="only alerts in this status")
    _options(listing)
    listing.set_defaults(func=guarded(alerts))
    figures = actions.add_parser("cpmu", help="complaints per million units sold, as CSV (or --json)")
    figures.add_argument("--by", choices=("product", "lot", "region", "period"), default="product")
    figures.add_argument("--issue-code", help="this code and everything under it (default: complaint)")
    figures.add_argument("--since", metavar="DATE", help="contacts received and sales ending on or after it")
    _options(figures)
    figures.set_defaults(func=guarded(cpmu))
    moving = actions.add_parser("move", help="move an alert: acknowledged, investigating, closed, escalated")
    moving.add_argument("id")
    moving.add_argument("status")
    moving.add_argument("--reason", required=True, help="why")
    _options(moving)
    moving.set_defaults(func=guarded(move))
    from services.cli import digest, reports  # they build on this module's call and options

    reports.add_to(actions)
    digest.add_to(actions)
