"""`crs retention list|set|sweep`: retention policies, an admin's, through contacts' ConsumerRights API."""

from __future__ import annotations

import grpc
from crs.contacts.v1 import rights_pb2 as pb

from services.cli.rights import TIMEOUT, fail, stub


def show(args) -> int:
    try:
        found = stub(args).ListRetentionPolicies(pb.ListRetentionPoliciesRequest(), timeout=TIMEOUT)
    except grpc.RpcError as exc:
        return fail(exc)
    for policy in found.policies:
        kept = f"{policy.days} days" if policy.days else "kept until erased"
        print(f"{policy.kind:<28} {kept:<18} set by {policy.updated_by}")
    return 0


def put(args) -> int:
    try:
        stub(args).PutRetentionPolicy(pb.RetentionPolicy(kind=args.kind, days=args.days), timeout=TIMEOUT)
    except grpc.RpcError as exc:
        return fail(exc)
    print(f"{args.kind}: {args.days} days" if args.days else f"{args.kind}: kept until erased")
    return 0


def sweep(args) -> int:
    try:
        record = stub(args).RunRetentionSweep(pb.RunRetentionSweepRequest(), timeout=300)
    except grpc.RpcError as exc:
        return fail(exc)
    removed = ", ".join(f"{kind} {count}" for kind, count in sorted(record.removed.items())) or "nothing"
    print(f"sweep {record.id}: removed {removed}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("retention", help="how long personal data is kept, and the sweep")
    parser.add_argument("--target", help="contacts gRPC address (default CRS_CONTACTS_GRPC)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="the policies").set_defaults(func=show)
    set_parser = actions.add_parser("set", help="keep KIND for DAYS days (0: until erased)")
    set_parser.add_argument(
        "kind", choices=("recordings", "unidentified_callers", "closed_case_personal_data", "failed_logins")
    )
    set_parser.add_argument("days", type=int)
    set_parser.set_defaults(func=put)
    actions.add_parser("sweep", help="apply every policy now; prints what was removed").set_defaults(
        func=sweep
    )
