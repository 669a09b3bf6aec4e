"""`crs recall open|list|show|close [--json]`: recall mode from the command line, through insights' gRPC."""

from __future__ import annotations

import json

from crs.insights.v1 import insights_pb2 as pb
from google.protobuf import json_format

from services.cli.insights import _options, call, guarded


def _shown(recall) -> dict:
    return json_format.MessageToDict(
        recall, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def _print(args, recall) -> None:
    if args.json:
        print(json.dumps(_shown(recall)))
        return
    lots = ", ".join(recall.lot_codes) or "every lot"
    regions = ", ".join(recall.regions) or "every region"
    print(f"{recall.id} {recall.status} {recall.sku} ({lots}; {regions}) {recall.title}")
    print(f"  opened by {recall.opened_by} at {recall.opened_at}; {recall.contacts} contacts about it")
    for answer in recall.script:
        print(f"  script: {answer}")
    if recall.closed_at:
        print(f"  closed by {recall.closed_by} at {recall.closed_at}: {recall.close_reason}")


def _split(values) -> list[str]:
    return [v.strip() for value in values or () for v in value.split(",") if v.strip()]


def open_recall(args) -> int:
    request = pb.OpenRecallRequest(
        sku=args.sku or "",
        lot_codes=_split(args.lot),
        regions=_split(args.region),
        title=args.title,
        script=args.script,
        consumer_message=args.message,
        alert_id=args.alert or "",
        reason=args.reason or "",
    )
    _print(args, call(args, "OpenRecall", request))
    return 0


def list_recalls(args) -> int:
    found = call(args, "ListRecalls", pb.ListRecallsRequest(status=args.status or "")).recalls
    if args.json:
        print(json.dumps([_shown(r) for r in found]))
        return 0
    for r in found:
        print(f"{r.opened_at[:10]} {r.status:<6} {r.sku} {','.join(r.lot_codes) or '*'} {r.title}  {r.id}")
    return 0


def show(args) -> int:
    _print(args, call(args, "GetRecall", pb.GetRecallRequest(id=args.id)))
    return 0


def close(args) -> int:
    _print(args, call(args, "CloseRecall", pb.CloseRecallRequest(id=args.id, reason=args.reason)))
    return 0


def register(subparsers) -> None:
    recall = subparsers.add_parser("recall", help="recall mode: open, list, show and close recalls")
    actions = recall.add_subparsers(dest="action", required=True, metavar="ACTION")
    opening = actions.add_parser("open", help="open a recall, by hand or from an alert (--alert ID)")
    opening.add_argument("--sku", help="the product (default: the alert's)")
    opening.add_argument("--lot", action="append", help="a recalled lot (repeat, or comma-separated)")
    opening.add_argument("--region", action="append", help="a region (repeat, or comma-separated)")
    opening.add_argument("--title", required=True)
    opening.add_argument("--script", action="append", required=True, help="an approved answer (repeat)")
    opening.add_argument("--message", required=True, help="the message to affected consumers")
    opening.add_argument("--alert", help="the alert this recall escalates")
    opening.add_argument("--reason", help="why, written on the alert")
    _options(opening)
    opening.set_defaults(func=guarded(open_recall))
    listing = actions.add_parser("list", help="list recalls")
    listing.add_argument("--status", choices=("open", "closed"))
    _options(listing)
    listing.set_defaults(func=guarded(list_recalls))
    showing = actions.add_parser("show", help="one recall, with its script and contacts")
    showing.add_argument("id")
    _options(showing)
    showing.set_defaults(func=guarded(show))
    closing = actions.add_parser("close", help="close a recall")
    closing.add_argument("id")
    closing.add_argument("--reason", required=True)
    _options(closing)
    closing.set_defaults(func=guarded(close))
