"""`crs recording pause CALL_ID`, `crs recording resume CALL_ID` and `crs recording state CALL_ID`: PCI pause
of a call's recording, and whether it is paused now.

Talks to telephony's recording control API (CRS_TELEPHONY_GRPC, default 127.0.0.1:50055) with a
deadline, acting as `--user` in `--role` (the principal telephony records as who paused or resumed).
Exit status: 0 done (or already so), 1 refused or unreachable, with the reason on stderr.
"""

from __future__ import annotations

import argparse
import getpass
import sys

import grpc
from crs.telephony.v1 import control_pb2, control_pb2_grpc

from services.cli import operator
from services.runtime import grpcio
from services.runtime.principal import ROLES, Principal
from services.runtime.settings import env

DEADLINE_SECONDS = 2.0


def change(action: str, call_id: str, *, target: str, actor: Principal) -> control_pb2.RecordingState:
    """Pause or resume `call_id`'s recording, or read its state ("state"); raises grpc.RpcError when
    telephony refuses."""
    with grpcio.blocking_channel(target) as channel:
        stub = control_pb2_grpc.RecordingControlStub(channel)
        method = {
            "pause": stub.PauseRecording,
            "resume": stub.ResumeRecording,
            "state": stub.GetRecordingState,
        }[action]
        return method(
            control_pb2.RecordingRequest(call_id=call_id), timeout=DEADLINE_SECONDS, metadata=actor.metadata()
        )


def run(args: argparse.Namespace) -> int:
    actor = Principal(username=args.user, role=args.role)
    try:
        operator.require(args, actor)
    except operator.Refused as refusal:
        print(f"{args.action} refused: {refusal}", file=sys.stderr)
        return 1
    target = args.telephony or env("CRS_TELEPHONY_GRPC", "127.0.0.1:50055")
    try:
        state = change(args.action, args.call_id, target=target, actor=actor)
    except grpc.RpcError as exc:
        print(f"{args.action} refused: {exc.code().name}: {exc.details()}", file=sys.stderr)
        return 1
    word = "paused" if state.paused else "recording"
    note = "" if state.changed or args.action == "state" else " (no change: it already was)"
    print(f"{state.call_id}: {word}{note}")
    for interval in state.intervals:
        end = f"{interval.end_seconds:.3f}s" if interval.end_seconds else "now"
        print(f"  silent {interval.start_seconds:.3f}s - {end} (paused by {interval.paused_by}"
              + (f", resumed by {interval.resumed_by})" if interval.resumed_by else ")"))  # fmt: skip
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("recording", help="pause or resume a call's recording (PCI)")
    parser.add_argument("action", choices=["pause", "resume", "state"])
    parser.add_argument("call_id", metavar="CALL_ID", help="the SIP Call-ID of the call in progress")
    parser.add_argument("--user", default=getpass.getuser(), help="who is acting (default: you)")
    # The person on the call pauses it: an agent, unless a supervisor says so.
    parser.add_argument("--role", default="agent", choices=[r for r in ROLES if r != "analyst"])
    parser.add_argument("--telephony", help="telephony's control API host:port (default CRS_TELEPHONY_GRPC)")
    parser.set_defaults(func=run)
