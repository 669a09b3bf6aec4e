"""`crs fulfilment request|show|approve|refuse|carrier-update|carrier-import`: reply fulfillment from a shell.

The person acting is given with `--as USER` (and `--role`); it travels as the call's principal, the way
the console passes the signed-in person. A case is named by its id, or by its reference number.
"""

from __future__ import annotations

import csv
import getpass
import json
import sys
import uuid
from decimal import Decimal, InvalidOperation

import grpc
from crs.common.v1 import money_pb2
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc
from crs.fulfillment.v1 import fulfillment_pb2 as pb
from crs.fulfillment.v1 import fulfillment_pb2_grpc
from google.protobuf import json_format

from services.cli import operator
from services.runtime.grpcio import blocking_channel
from services.runtime.principal import ROLES, Principal
from services.runtime.settings import grpc_target

TIMEOUT = 10.0
# Currencies without a minor unit; every other one the CLI takes has two decimals.
NO_MINOR_UNIT = {"JPY", "KRW", "VND", "CLP", "ISK"}


class CliError(Exception):
    pass


def stub(args) -> fulfillment_pb2_grpc.FulfillmentStub:
    return fulfillment_pb2_grpc.FulfillmentStub(blocking_channel(args.target or grpc_target("fulfillment")))


def principal(args, default_role: str) -> Principal:
    return Principal(username=args.actor or getpass.getuser(), role=args.role or default_role)


def call(args, method: str, request, default_role: str = "agent"):
    who = principal(args, default_role)
    try:
        operator.require(args, who)
    except operator.Refused as refusal:
        raise CliError(f"refused: {refusal}") from None
    try:
        return getattr(stub(args), method)(request, metadata=who.metadata(), timeout=TIMEOUT)
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.UNAVAILABLE:
            raise CliError(
                f"the fulfillment service does not answer ({exc.details()}); is it running?"
            ) from None
        raise CliError(f"{exc.code().name.lower().replace('_', ' ')}: {exc.details()}") from None


def as_dict(message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def show_message(args, message, line: str) -> None:
    print(json.dumps(as_dict(message), indent=None if args.json else 2) if args.json else line)


def minor_units(amount: str, currency: str) -> int:
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise CliError(f"--value must be an amount such as 25.00, not {amount!r}") from None
    scaled = value * (1 if currency.upper() in NO_MINOR_UNIT else 100)
    if scaled != scaled.to_integral_value() or scaled < 0:
        raise CliError(f"--value {amount} has more decimals than {currency.upper()} allows")
    return int(scaled)


def resolve_case(ref: str) -> str:
    """A case id from an id or a reference number (SearchCases by reference)."""
    try:
        return str(uuid.UUID(ref))
    except ValueError:
        pass
    digits = ref.strip().lstrip("#").removeprefix("C-")
    if not digits.isdigit():
        raise CliError(f"--case takes a case id or reference number, not {ref!r}")
    cases = casework_pb2_grpc.CaseworkStub(blocking_channel(grpc_target("contacts")))
    try:
        found = cases.SearchCases(
            casework_pb2.SearchCasesRequest(reference=int(digits), limit=1), timeout=TIMEOUT
        ).cases
    except grpc.RpcError as exc:
        raise CliError(f"contacts could not look up case {ref}: {exc.details()}") from None
    if not found:
        raise CliError(f"no case has reference {ref}")
    return found[0].id


def summary(f: pb.FulfillmentRequest) -> str:
    extra = f.coupon_code or (f.shipment.tracking_number if f.HasField("shipment") else "")
    reason = f" ({f.reason})" if f.reason and f.state in ("awaiting_approval", "cancelled", "failed") else ""
    return f"{f.id}  {f.kind:<13} {f.state}{('/' + f.stage) if f.stage else ''}{reason}  {extra}".rstrip()


def request(args) -> int:
    currency = args.currency.upper()
    value = minor_units(args.value, currency) if args.value else 0
    made = call(
        args,
        "RequestFulfillment",
        pb.RequestFulfillmentRequest(
            case_id=resolve_case(args.case),
            kind=args.kind,
            value=money_pb2.Money(currency=currency, amount_minor=value),
            sku=args.sku or "",
            quantity=args.quantity,
            template=args.template or "",
            idempotency_key=args.idempotency_key or "",
            delivery=args.delivery,
        ),
    )
    show_message(args, made, summary(made))
    return 0


def show(args) -> int:
    found = call(args, "GetFulfillment", pb.GetFulfillmentRequest(id=args.id))
    if args.json:
        print(json.dumps(as_dict(found)))
        return 0
    print(summary(found))
    for step in found.history:
        when = step.occurred_at.ToDatetime().isoformat(timespec="seconds")
        stage = f"/{step.stage}" if step.stage else ""
        print(f"  {when}  {step.state}{stage}  {step.actor}  {step.note}".rstrip())
    return 0


def approve(args) -> int:
    decided = call(args, "ApproveFulfillment", pb.DecideFulfillmentRequest(id=args.id), "supervisor")
    show_message(args, decided, summary(decided))
    return 0


def refuse(args) -> int:
    decided = call(
        args, "RefuseFulfillment", pb.DecideFulfillmentRequest(id=args.id, reason=args.reason), "supervisor"
    )
    show_message(args, decided, summary(decided))
    return 0


def carrier_update(args) -> int:
    updated = call(
        args,
        "UpdateShipment",
        pb.UpdateShipmentRequest(carrier=args.carrier, tracking_number=args.tracking, status=args.status),
        "supervisor",
    )
    show_message(args, updated, f"{updated.carrier} {updated.tracking_number}: {updated.status}")
    return 0


def carrier_import(args) -> int:
    """A carrier's CSV (carrier, tracking_number, status): each line is one update; bad lines are listed."""
    applied, failed = 0, 0
    with open(args.file, newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                call(
                    args,
                    "UpdateShipment",
                    pb.UpdateShipmentRequest(
                        carrier=(row.get("carrier") or "").strip(),
                        tracking_number=(row.get("tracking_number") or "").strip(),
                        status=(row.get("status") or "").strip(),
                    ),
                    "supervisor",
                )
                applied += 1
            except CliError as exc:
                failed += 1
                print(f"line {number}: {exc}", file=sys.stderr)
    print(
        json.dumps({"applied": applied, "failed": failed})
        if args.json
        else f"{applied} applied, {failed} refused"
    )
    return 1 if failed else 0


def letter(args) -> int:
    found = call(args, "GetLetter", pb.GetLetterRequest(fulfillment_id=args.id))
    with open(args.out, "wb") as handle:
        handle.write(found.pdf)
    print(f"{args.out}: {found.template} ({found.language}), {len(found.pdf)} bytes")
    return 0


def record_return(args) -> int:
    done = call(
        args,
        "RecordReturn",
        pb.RecordReturnRequest(fulfillment_id=args.id, finding=args.finding),
        "supervisor",
    )
    show_message(args, done, summary(done))
    return 0


def guarded(func):
    def run(args) -> int:
        try:
            return func(args)
        except CliError as exc:
            print(f"crs: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:
            print(f"crs: {exc}", file=sys.stderr)
            return 1

    return run


def common_options(parser, *, json_flag: bool = True) -> None:
    parser.add_argument("--target", help="fulfillment gRPC address (default CRS_FULFILLMENT_GRPC)")
    parser.add_argument("--as", dest="actor", metavar="USER", help="who is acting (default: your login)")
    parser.add_argument("--role", choices=ROLES, help="the acting person's role")
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print JSON")


def register(subparsers) -> None:
    parser = subparsers.add_parser("fulfilment", help="request, show, approve and refuse reply fulfillments")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    ask = actions.add_parser(
        "request", help="request a coupon, refund, replacement, sample, letter or mailer"
    )
    ask.add_argument("--case", required=True, metavar="REF", help="the case id or reference number")
    ask.add_argument(
        "--kind",
        required=True,
        choices=["coupon", "refund", "replacement", "sample", "letter", "return_mailer"],
    )
    ask.add_argument("--value", metavar="AMOUNT", help="e.g. 25.00 (coupon, refund)")
    ask.add_argument("--currency", default="USD")
    ask.add_argument("--sku", help="the product (replacement, sample; a coupon's product)")
    ask.add_argument("--quantity", type=int, default=1)
    ask.add_argument("--template", metavar="NAME", help="the letter's template")
    ask.add_argument(
        "--delivery",
        choices=["post", "email"],
        default="post",
        help="a letter: by post, or by email to the consumer's address on file",
    )
    ask.add_argument("--idempotency-key", help="send the same request again safely")
    common_options(ask)
    ask.set_defaults(func=guarded(request))

    for name, func, helptext in (
        ("show", show, "a fulfillment with its history"),
        ("approve", approve, "approve a fulfillment that waits for a supervisor"),
        ("refuse", refuse, "refuse a fulfillment that waits for a supervisor"),
    ):
        sub = actions.add_parser(name, help=helptext)
        sub.add_argument("id")
        if name == "refuse":
            sub.add_argument("--reason", required=True)
        common_options(sub)
        sub.set_defaults(func=guarded(func))

    update = actions.add_parser("carrier-update", help="one carrier status, as a carrier's webhook sends it")
    update.add_argument("--carrier", required=True)
    update.add_argument("--tracking", required=True)
    update.add_argument("--status", required=True)
    common_options(update)
    update.set_defaults(func=guarded(carrier_update))

    letter_parser = actions.add_parser("letter", help="save a printed letter's PDF")
    letter_parser.add_argument("id")
    letter_parser.add_argument("--out", required=True, metavar="FILE")
    common_options(letter_parser, json_flag=False)
    letter_parser.set_defaults(func=guarded(letter))

    returned = actions.add_parser("return", help="record a returned product's arrival with QA's finding")
    returned.add_argument("id")
    returned.add_argument("--finding", required=True)
    common_options(returned)
    returned.set_defaults(func=guarded(record_return))

    imported = actions.add_parser("carrier-import", help="a carrier's CSV: carrier,tracking_number,status")
    imported.add_argument("file")
    common_options(imported)
    imported.set_defaults(func=guarded(carrier_import))
