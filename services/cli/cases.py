"""`crs cases regulatory-export CASE [--format csv|json]`: the fields a case's regulatory form needs, through
contacts' Regulatory gRPC service, for the person `--as USER` in `--role` (supervisor by default)."""

from __future__ import annotations

import csv
import getpass
import json
import sys

import grpc
from crs.contacts.v1 import regulatory_pb2 as pb
from crs.contacts.v1 import regulatory_pb2_grpc
from google.protobuf import json_format

from services.cli import operator
from services.cli.insights import CliError, guarded
from services.runtime.grpcio import blocking_channel
from services.runtime.principal import ROLES, Principal
from services.runtime.settings import grpc_target

TIMEOUT = 30.0


def regulatory_export(args) -> int:
    who = Principal(username=args.actor or getpass.getuser(), role=args.role or "supervisor")
    try:
        operator.require(args, who)
    except operator.Refused as refusal:
        raise CliError(f"refused: {refusal}") from None
    stub = regulatory_pb2_grpc.RegulatoryStub(blocking_channel(args.target or grpc_target("contacts")))
    try:
        export = stub.ExportReport(
            pb.ExportReportRequest(case_id=args.case), metadata=who.metadata(), timeout=TIMEOUT
        )
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.UNAVAILABLE:
            raise CliError(
                f"the contacts service does not answer ({exc.details()}); is it running?"
            ) from None
        raise CliError(f"{exc.code().name.lower().replace('_', ' ')}: {exc.details()}") from None
    if args.format == "json":
        print(json.dumps(json_format.MessageToDict(export, preserving_proto_field_name=True)))
        return 0
    clock = export.clock
    writer = csv.writer(sys.stdout)
    writer.writerow(("field", "value"))
    writer.writerow(("regime", clock.regime))
    writer.writerow(("form", f"{clock.authority} {clock.form}".strip()))
    writer.writerow(("report_state", clock.state))
    for field in export.fields:
        writer.writerow((field.name, field.value))
    return 0


def register(subparsers) -> None:
    cases = subparsers.add_parser("cases", help="cases: the regulatory report's export")
    actions = cases.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser(
        "regulatory-export", help="the fields a case's regulatory form needs, as CSV (field,value) or JSON"
    )
    export.add_argument("case", help="the case's id")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--target", help="contacts gRPC address (default CRS_CONTACTS_GRPC)")
    export.add_argument("--as", dest="actor", metavar="USER", help="who is acting (default: your login)")
    export.add_argument("--role", choices=ROLES, help="the acting person's role (default supervisor)")
    export.set_defaults(func=guarded(regulatory_export))
