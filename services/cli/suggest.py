"""`crs suggest-codes "VERBATIM"`: the issue codes the knowledge service suggests for a consumer's words."""

from __future__ import annotations

import json

import grpc
from crs.knowledge.v1 import knowledge_pb2 as pb

from services.cli.kb import TIMEOUT, fail, stub

SEPARATOR = " \u203a "  # the single right-pointing angle quote between code levels


def run(args) -> int:
    try:
        reply = stub(args).SuggestCodes(
            pb.SuggestCodesRequest(verbatim=args.verbatim, language=args.language or "", limit=args.limit),
            timeout=TIMEOUT,
        )
    except grpc.RpcError as exc:
        return fail(exc)
    codes = [{"code": c.code, "score": round(c.score, 4)} for c in reply.codes]
    if args.json:
        print(json.dumps({"model_version": reply.model_version, "codes": codes}, indent=2))
    else:
        for c in codes:
            path = c["code"].replace(".", SEPARATOR)
            print(f"{c['score']:.3f}  {path}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("suggest-codes", help="suggest issue codes for a verbatim")
    parser.add_argument("verbatim")
    parser.add_argument("--language", default="")
    parser.add_argument("--limit", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--target", default="", help="the knowledge service's gRPC address")
    parser.set_defaults(func=run)
