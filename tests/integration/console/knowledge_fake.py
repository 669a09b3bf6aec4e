"""The knowledge service's own use cases and gRPC layer over an in-memory store, for the console's tests:
the demo articles published, the code model trained from the demo verbatims without an embedding model.
The suggestions the console shows are therefore the model's, not canned."""

from __future__ import annotations

import pathlib

from crs.knowledge.v1 import knowledge_pb2_grpc

from services.knowledge import articles
from services.knowledge.demo.verbatims import PHRASES, generate
from services.knowledge.grpc_api import KnowledgeApi
from services.knowledge.service import Knowledge
from tests.integration.console.fakes import FakeServer
from tests.unit.knowledge.fakes import MemoryStore

DEMO = pathlib.Path(articles.__file__).parent / "demo" / "articles"
# Drafts for the review page: one by an agent, one by the supervisor the tests log in as.
DRAFTS = (("gift-boxes", "agent-author"), ("coffee-descaling", "sam"))


def issue_paths() -> dict[str, str]:
    """The leaf issue codes the model knows, with a path as contacts' code book spells it."""
    return {
        code: "\u203a ".join(p.replace("_", " ").capitalize() for p in code.split(".")) for code in PHRASES
    }


async def knowledge_server() -> FakeServer:
    kb = Knowledge(MemoryStore(), None)
    for path in sorted(DEMO.glob("*.md")):
        await kb.put(articles.parse_markdown(path.read_text()), actor="importer", role="admin", publish=True)
    for article_id, author in DRAFTS:
        draft = articles.Article(
            id=article_id,
            product_sku="",
            kind="general",
            language="en",
            version=0,
            title=f"Draft: {article_id.replace('-', ' ')}",
            body="To be written.",
            state="draft",
            owner=author,
            author=author,
        )
        await kb.put(draft, actor=author, role="agent")
    await kb.train_codes(*generate())
    return FakeServer(KnowledgeApi(kb), knowledge_pb2_grpc.add_KnowledgeServicer_to_server)
