"""`crs kb import|export DIR` and `crs kb ask "QUESTION"`: the knowledge base from the command line, over gRPC.

Import writes each Markdown file as a new published version (the operator acts as an admin); export writes
the newest version of every article and language, whatever its state, with its state in the front matter.
"""

from __future__ import annotations

import getpass
import json
import pathlib
import sys

import grpc
from crs.knowledge.v1 import knowledge_pb2 as pb
from crs.knowledge.v1 import knowledge_pb2_grpc

from services.cli import operator as cli_operator
from services.knowledge import articles
from services.knowledge.convert import article_from_pb
from services.runtime import grpcio
from services.runtime.principal import Principal
from services.runtime.settings import grpc_target

TIMEOUT = 10.0


def stub(args) -> knowledge_pb2_grpc.KnowledgeStub:
    return knowledge_pb2_grpc.KnowledgeStub(grpcio.blocking_channel(args.target or grpc_target("knowledge")))


def operator_principal() -> Principal:
    name = "".join(c for c in getpass.getuser() if c.isalnum() or c in "._-") or "operator"
    return Principal(username=name[:64], role="admin")


def fail(exc: grpc.RpcError) -> int:
    if exc.code() == grpc.StatusCode.UNAVAILABLE:
        print(
            f"crs: the knowledge service does not answer ({exc.details()}); is it running?", file=sys.stderr
        )
    else:
        print(f"crs: {exc.code().name.lower().replace('_', ' ')}: {exc.details()}", file=sys.stderr)
    return 1


def import_(args) -> int:
    files = sorted(pathlib.Path(args.dir).glob("*.md"))
    if not files:
        print(f"crs: no .md files in {args.dir}", file=sys.stderr)
        return 1
    parsed = []
    for path in files:
        try:
            parsed.append(articles.parse_markdown(path.read_text(encoding="utf-8"), source=str(path)))
        except (articles.InvalidArticle, UnicodeDecodeError) as exc:
            print(f"crs: {exc}", file=sys.stderr)
            return 1
    who = operator_principal()
    try:
        cli_operator.require(args, who)
    except cli_operator.Refused as refusal:
        print(f"crs: refused: {refusal}", file=sys.stderr)
        return 1
    client = stub(args)
    try:
        for a in parsed:
            client.PutArticle(
                pb.PutArticleRequest(
                    id=a.id,
                    product_sku=a.product_sku,
                    kind=a.kind,
                    language=a.language,
                    title=a.title,
                    body=a.body,
                    publish=True,
                ),
                metadata=who.metadata(),
                timeout=TIMEOUT,
            )
    except grpc.RpcError as exc:
        return fail(exc)
    print(f"imported {len(parsed)} articles")
    return 0


def export(args) -> int:
    try:
        found = stub(args).ListArticles(pb.ListArticlesRequest(), timeout=TIMEOUT).articles
    except grpc.RpcError as exc:
        return fail(exc)
    out = pathlib.Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    for m in found:
        a = article_from_pb(m)
        a = articles.Article(**{**a.__dict__, "version": m.version, "state": m.state, "owner": m.owner})
        (out / articles.file_name(a)).write_text(articles.to_markdown(a), encoding="utf-8")
    print(f"exported {len(found)} articles to {out}")
    return 0


def ask(args) -> int:
    try:
        reply = stub(args).Ask(
            pb.AskRequest(question=args.question, language=args.language or "", channel="api"),
            timeout=TIMEOUT,
        )
    except grpc.RpcError as exc:
        return fail(exc)
    result = {
        "language": reply.language,
        "hand_off": reply.hand_off,
        "hand_off_reason": reply.hand_off_reason,
        "confidence": round(reply.confidence, 4),
        "answer": reply.answer,
        "answered_in_other_language": reply.answered_in_other_language,
        "log_id": reply.log_id,
        "articles": [
            {
                "id": h.article.id,
                "language": h.article.language,
                "title": h.article.title,
                "score": round(h.score, 4),
                "other_language": h.other_language,
            }
            for h in reply.hits
        ],
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    elif reply.hand_off:
        print(
            f"hand off to an agent ({reply.hand_off_reason}); best article: "
            + (reply.hits[0].article.title if reply.hits else "none")
        )
    else:
        note = " (from an article in another language)" if reply.answered_in_other_language else ""
        print(f"{reply.hits[0].article.title}{note}\n\n{reply.answer}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("kb", help="import, export or ask the knowledge base")
    parser.add_argument("--target", default="", help="the knowledge service's gRPC address")
    commands = parser.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    into = commands.add_parser("import", help="publish every Markdown article in DIR")
    into.add_argument("dir")
    into.set_defaults(func=import_)
    out = commands.add_parser("export", help="write every article as Markdown into DIR")
    out.add_argument("dir")
    out.set_defaults(func=export)
    question = commands.add_parser("ask", help="what an automated answer would say, and whether it hands off")
    question.add_argument("question")
    question.add_argument("--language", default="")
    question.add_argument("--json", action="store_true")
    question.set_defaults(func=ask)
