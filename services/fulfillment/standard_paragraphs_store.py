"""The standard paragraphs' table (schema `fulfillment`). SQL only; the rules are in standard_paragraphs.py.
`library` is shared by every place a letter is rendered (the worker's print step, the case page's preview,
the template preview), so all of them compose a letter from the same words."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from services.fulfillment import standard_paragraphs as rules
from services.fulfillment.replies import InvalidRequest, NotFound

COLUMNS = "name, language, text, retired_at IS NOT NULL, updated_by, updated_at"
LIBRARY_SQL = "SELECT name, language, text FROM standard_paragraph WHERE name = ANY(%s)"
# A template in use naming the paragraph: its entry spelt as standard_paragraphs.reference spells it.
NAMED_BY_SQL = "SELECT name, language FROM letter_template WHERE retired_at IS NULL AND %s = ANY(paragraphs)"


def library_of(rows) -> dict[str, dict[str, str]]:
    library: dict[str, dict[str, str]] = {}
    for name, language, text in rows:
        library.setdefault(name, {})[language] = text
    return library


def library_sync(conn, paragraphs) -> dict[str, dict[str, str]]:
    """The library texts a template's paragraphs name, on a synchronous connection (the worker)."""
    names = rules.names_in(paragraphs)
    return library_of(conn.execute(LIBRARY_SQL, (names,)).fetchall()) if names else {}


async def library(conn, paragraphs, *, in_use_only: bool = False) -> dict[str, dict[str, str]]:
    names = rules.names_in(paragraphs)
    if not names:
        return {}
    sql = LIBRARY_SQL + (" AND retired_at IS NULL FOR SHARE" if in_use_only else "")
    return library_of(await (await conn.execute(sql, (names,))).fetchall())


class StandardParagraphStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def all(self) -> list[rules.StandardParagraph]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(f"SELECT {COLUMNS} FROM standard_paragraph ORDER BY name, language")
            ).fetchall()
        return [rules.StandardParagraph(*row) for row in rows]

    async def save(self, paragraph: rules.StandardParagraph, actor: str) -> None:
        async with self.pool.connection() as conn:
            retired = await (
                await conn.execute(
                    "SELECT 1 FROM standard_paragraph WHERE name = %s AND retired_at IS NOT NULL FOR UPDATE",
                    (paragraph.name,),
                )
            ).fetchone()
            if retired:
                raise InvalidRequest(
                    f"standard paragraph {paragraph.name!r} is retired; save it under a new name"
                )
            await conn.execute(
                "INSERT INTO standard_paragraph (name, language, text, updated_by) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (name, language) DO UPDATE SET text = EXCLUDED.text,"
                " updated_by = EXCLUDED.updated_by, updated_at = now()",
                (*paragraph.key, paragraph.text, actor),
            )
            await conn.commit()

    async def retire(self, name: str) -> None:
        """Every language retired at once, unless a template in use still names it."""
        async with self.pool.connection() as conn:
            # Locked first, so a template saved meanwhile (which reads it FOR SHARE) waits and then sees it.
            rows = await (
                await conn.execute(
                    "SELECT language FROM standard_paragraph WHERE name = %s AND retired_at IS NULL FOR UPDATE",
                    (name,),
                )
            ).fetchall()
            if not rows:
                raise NotFound(f"there is no standard paragraph {name!r} in use")
            users = await (await conn.execute(NAMED_BY_SQL, (rules.reference(name),))).fetchall()
            rules.check_retirable(name, users)
            await conn.execute(
                "UPDATE standard_paragraph SET retired_at = now() WHERE name = %s AND retired_at IS NULL",
                (name,),
            )
            await conn.commit()
