"""Demo data for `crs seed --demo`: the demo articles (the files `crs kb import` reads), published.

Written straight to the database through the service's own store, so `make run` needs no running service;
the service encodes the new versions' vectors when it starts. An article already in a language, even one
an admin has since edited, is left as it is: seeding again changes nothing.
"""

from __future__ import annotations

import asyncio
import pathlib

from services.knowledge import articles
from services.knowledge.store import SqlStore
from services.runtime.db import open_pool

SCHEMA = "knowledge"
DEMO_ARTICLES = pathlib.Path(__file__).parent / "demo" / "articles"
DEMO_AUTHOR = "demo"


def demo_articles(folder: pathlib.Path = DEMO_ARTICLES) -> list[articles.Article]:
    return [
        articles.parse_markdown(path.read_text(encoding="utf-8"), source=str(path))
        for path in sorted(folder.glob("*.md"))
    ]


async def seed_articles(database_url: str, drafts: list[articles.Article]) -> int:
    """Publish each of `drafts` not yet in the knowledge base in its language; how many were added."""
    pool = await open_pool(database_url, schema=SCHEMA, min_size=1, max_size=1)
    try:
        store = SqlStore(pool)
        added = 0
        for draft in drafts:
            if await store.latest(draft.id, draft.language) is not None:
                continue
            article = articles.new_version(None, draft, actor=DEMO_AUTHOR, role="admin", publish=True)
            await store.save(article, new=True)
            added += 1
        return added
    finally:
        await pool.close()


def seed_demo(database_url: str) -> None:
    asyncio.run(seed_articles(database_url, demo_articles()))
