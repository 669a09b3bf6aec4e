"""`crs consumer export|erase` and `crs retention`: the consumer's rights from a shell, through contacts'
ConsumerRights API (the command line calls as the "cli" service; the receipt names it as the requester)."""

from __future__ import annotations

import sys
import time
import uuid

import grpc
from crs.contacts.v1 import rights_pb2 as pb
from crs.contacts.v1 import rights_pb2_grpc

from services.runtime import grpcio
from services.runtime.settings import grpc_target

TIMEOUT = 10.0
EXPORT_TIMEOUT = 300.0
POLL_SECONDS = 0.5


def stub(args) -> rights_pb2_grpc.ConsumerRightsStub:
    target = getattr(args, "target", None) or grpc_target("contacts")
    return rights_pb2_grpc.ConsumerRightsStub(grpcio.blocking_channel(target, large_messages=True))


def fail(exc: grpc.RpcError) -> int:
    if exc.code() == grpc.StatusCode.UNAVAILABLE:
        print(f"crs: the contacts service does not answer ({exc.details()}); is it running?", file=sys.stderr)
    elif exc.code() == grpc.StatusCode.FAILED_PRECONDITION:
        print(f"crs: not erased, a legal hold applies: {exc.details()}", file=sys.stderr)
    else:
        print(f"crs: {exc.code().name.lower().replace('_', ' ')}: {exc.details()}", file=sys.stderr)
    return 1


def export(args) -> int:
    try:
        answer = stub(args).ExportArchive(
            pb.ExportArchiveRequest(consumer_id=args.id), timeout=EXPORT_TIMEOUT
        )
    except grpc.RpcError as exc:
        return fail(exc)
    with open(args.out, "wb") as handle:
        handle.write(answer.archive)
    print(f"exported to {args.out} ({len(answer.archive)} bytes)")
    return 0


def receipt(erasure: pb.Erasure) -> str:
    lines = [
        f"erasure {erasure.id}: {erasure.state}",
        f"  requested by {erasure.requested_by} at {erasure.requested_at.ToDatetime():%Y-%m-%d %H:%M:%S} UTC",
        f"  reason: {erasure.reason}",
    ]
    if erasure.state == "done":
        lines.append(f"  completed at {erasure.completed_at.ToDatetime():%Y-%m-%d %H:%M:%S} UTC")
    for step in erasure.steps:
        erased = ", ".join(f"{kind} {count}" for kind, count in sorted(step.erased.items())) or "nothing held"
        when = f" at {step.finished_at.ToDatetime():%H:%M:%S}" if step.state == "done" else ""
        error = f" (last error: {step.last_error})" if step.state != "done" and step.last_error else ""
        lines.append(f"  {step.service:<12} {step.state}{when}: {erased}{error}")
    return "\n".join(lines)


def erase(args) -> int:
    rights = stub(args)
    request = pb.RequestErasureRequest(
        consumer_id=args.id, reason=args.reason, erasure_id=args.erasure_id or str(uuid.uuid4())
    )
    try:
        erasure = rights.RequestErasure(request, timeout=TIMEOUT)
        deadline = time.monotonic() + args.wait
        while erasure.state != "done" and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            erasure = rights.GetErasure(pb.GetErasureRequest(erasure_id=erasure.id), timeout=TIMEOUT)
    except grpc.RpcError as exc:
        return fail(exc)
    print(receipt(erasure))
    if erasure.state != "done":
        print(
            f"crs: not finished after {args.wait:.0f}s; it goes on by itself: crs consumer erasure {erasure.id}",
            file=sys.stderr,
        )
        return 3
    return 0


def show_erasure(args) -> int:
    try:
        erasure = stub(args).GetErasure(pb.GetErasureRequest(erasure_id=args.erasure_id), timeout=TIMEOUT)
    except grpc.RpcError as exc:
        return fail(exc)
    print(receipt(erasure))
    return 0


def register_consumer_actions(actions) -> None:
    export_parser = actions.add_parser("export", help="everything CRS holds about a consumer, as one zip")
    export_parser.add_argument("id")
    export_parser.add_argument("--out", required=True, metavar="FILE")
    export_parser.set_defaults(func=export)

    erase_parser = actions.add_parser("erase", help="erase a consumer everywhere; waits for the receipt")
    erase_parser.add_argument("id")
    erase_parser.add_argument("--reason", required=True)
    erase_parser.add_argument("--erasure-id", help="your own id for this request: asking twice erases once")
    erase_parser.add_argument("--wait", type=float, default=120.0, metavar="SECONDS")
    erase_parser.set_defaults(func=erase)

    show_parser = actions.add_parser("erasure", help="show an erasure's receipt")
    show_parser.add_argument("erasure_id")
    show_parser.set_defaults(func=show_erasure)
