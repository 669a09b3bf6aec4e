"""`crs consumer add|get|match|export|erase`: the contacts service's API from a shell."""

from __future__ import annotations

import json
import sys

import grpc
from crs.contacts.v1 import contacts_pb2 as pb
from crs.contacts.v1 import contacts_pb2_grpc
from google.protobuf import json_format

from services.cli import rights
from services.runtime import grpcio
from services.runtime.settings import Common, grpc_target

TIMEOUT = 5.0
MATCH_NAMES = {
    pb.MATCH_KIND_EXACT: "exact",
    pb.MATCH_KIND_NATIONAL: "national",
    pb.MATCH_KIND_SUFFIX: "suffix",
}


def _stub(args) -> contacts_pb2_grpc.ContactsStub:
    target = args.target or grpc_target("contacts")
    return contacts_pb2_grpc.ContactsStub(grpcio.blocking_channel(target))


def _fail(exc: grpc.RpcError) -> int:
    if exc.code() == grpc.StatusCode.UNAVAILABLE:
        print(f"crs: the contacts service does not answer ({exc.details()}); is it running?", file=sys.stderr)
    else:
        print(f"crs: {exc.code().name.lower().replace('_', ' ')}: {exc.details()}", file=sys.stderr)
    return 1


def add(args) -> int:
    consumer = pb.Consumer(
        name=args.name,
        language=args.language,
        phones=[pb.PhoneNumber(number=n) for n in args.phone],
        emails=[pb.Email(address=e) for e in args.email],
    )
    try:
        created = _stub(args).CreateConsumer(
            pb.CreateConsumerRequest(consumer=consumer, region=args.region or ""), timeout=TIMEOUT
        )
    except grpc.RpcError as exc:
        return _fail(exc)
    if args.json:
        print(json.dumps(json_format.MessageToDict(created, preserving_proto_field_name=True)))
    else:
        print(created.id)
    return 0


def get(args) -> int:
    try:
        found = _stub(args).GetConsumer(pb.GetConsumerRequest(id=args.id), timeout=TIMEOUT)
    except grpc.RpcError as exc:
        return _fail(exc)
    print(json.dumps(json_format.MessageToDict(found, preserving_proto_field_name=True), indent=2))
    return 0


def match(args) -> int:
    region = args.region or Common.from_env().home_region
    try:
        result = _stub(args).MatchCaller(
            pb.MatchCallerRequest(number=args.number, region=region), timeout=TIMEOUT
        )
    except grpc.RpcError as exc:
        return _fail(exc)
    answer = {
        "number_e164": result.number_e164 or None,
        "withheld": result.withheld,
        "candidates": [
            {
                "consumer_id": c.consumer_id,
                "name": c.name,
                "match": MATCH_NAMES[c.match],
                "current": c.current,
            }
            for c in result.candidates
        ],
    }
    if result.explanation:
        answer["explanation"] = result.explanation
    if args.json:
        print(json.dumps(answer))
    else:
        if not result.candidates:
            print(f"no match: {result.explanation}")
        for c in answer["candidates"]:
            print(f"{c['consumer_id']}  {c['match']:<8}  {c['name']}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("consumer", help="add, show, match, export and erase consumers")
    parser.add_argument("--target", help="contacts gRPC address (default CRS_CONTACTS_GRPC)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    add_parser = actions.add_parser("add", help="add a consumer; prints the new id")
    add_parser.add_argument("--name", required=True)
    add_parser.add_argument("--phone", action="append", default=[], metavar="NUMBER")
    add_parser.add_argument("--email", action="append", default=[], metavar="ADDR")
    add_parser.add_argument("--language", default="en")
    add_parser.add_argument("--region", help="ISO country for national spellings (default CRS_HOME_REGION)")
    add_parser.add_argument("--json", action="store_true", help="print the consumer as JSON")
    add_parser.set_defaults(func=add)

    get_parser = actions.add_parser("get", help="show a consumer as JSON")
    get_parser.add_argument("id")
    get_parser.set_defaults(func=get)

    match_parser = actions.add_parser("match", help="who is calling from NUMBER?")
    match_parser.add_argument("number")
    match_parser.add_argument("--region", help="ISO country for national spellings (default CRS_HOME_REGION)")
    match_parser.add_argument("--json", action="store_true")
    match_parser.set_defaults(func=match)

    rights.register_consumer_actions(actions)
