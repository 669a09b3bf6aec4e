"""`crs insights digest [--week YYYY-Www] [--list qa|marketing|legal] [--out FILE] [--send]`: the weekly
digest (docs/insights.md, "Staff mail") as a PDF, and mailing it to the stakeholder lists once a week."""

from __future__ import annotations

import json

from crs.insights.v1 import staff_pb2 as pb
from crs.insights.v1 import staff_pb2_grpc

from services.cli.insights import CliError, _options, call, guarded
from services.insights.domain.staff import LISTS


def digest(args) -> int:
    if not (args.out or args.send):
        raise CliError("say what to do with the digest: --out FILE (the PDF), --send (mail it), or both")
    answer = {}
    if args.out:
        found = call(args, "GetDigest", pb.GetDigestRequest(week=args.week or "", list=args.list),
                     stub_of=staff_pb2_grpc.StaffStub)  # fmt: skip
        with open(args.out, "wb") as handle:
            handle.write(found.pdf)
        answer |= {"week": found.week, "out": args.out, "bytes": len(found.pdf)}
        if not args.json:
            print(f"wrote the digest of {found.week} for {args.list} to {args.out} ({len(found.pdf)} bytes)")
    if args.send:
        sent = call(
            args, "SendDigest", pb.SendDigestRequest(week=args.week or ""), stub_of=staff_pb2_grpc.StaffStub
        )
        answer |= {"week": sent.week, "claimed": sent.claimed}
        if not args.json:
            print(
                f"the digest of {sent.week} is being mailed to the stakeholder lists"
                if sent.claimed
                else f"the digest of {sent.week} was mailed before: not sent again"
            )
    if args.json:
        print(json.dumps(answer))
    return 0


def add_to(actions) -> None:
    """`insights digest`, under `crs insights`."""
    parser = actions.add_parser("digest", help="the weekly PDF digest: write it (--out) or mail it (--send)")
    parser.add_argument("--week", metavar="YYYY-Www", help="the ISO week (default: last week)")
    parser.add_argument("--list", choices=LISTS, default="qa", help="whose copy --out writes (default qa)")
    parser.add_argument("--out", metavar="FILE", help="write the PDF here")
    parser.add_argument("--send", action="store_true", help="mail it to every list, once per week")
    _options(parser)
    parser.set_defaults(func=guarded(digest))
