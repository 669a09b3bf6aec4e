"""Letter templates' table and its audit trail (schema `fulfillment`). SQL only; the rules are in
letter_templates.py. The worker's print step reads the same table, retired or not, so a letter already
asked for still prints."""

from __future__ import annotations

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.fulfillment import standard_paragraphs
from services.fulfillment.letter_templates import LetterTemplate, TemplateChange
from services.fulfillment.replies import InvalidRequest, NotFound
from services.fulfillment.standard_paragraphs_store import library

COLUMNS = "name, language, subject, greeting, paragraphs, closing, retired_at IS NOT NULL"
CHANGES_SHOWN = 50


def _template(row) -> LetterTemplate:
    name, language, subject, greeting, paragraphs, closing, retired = row
    return LetterTemplate(name, language, subject, greeting, tuple(paragraphs), closing, retired)


async def _record(conn, key, actor: str, before: dict | None, after: dict | None) -> None:
    await conn.execute(
        "INSERT INTO letter_template_change (name, language, changed_by, before, after)"
        " VALUES (%s, %s, %s, %s, %s)",
        (*key, actor, None if before is None else Jsonb(before), None if after is None else Jsonb(after)),
    )


class LetterTemplateStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def all(self) -> list[LetterTemplate]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(f"SELECT {COLUMNS} FROM letter_template ORDER BY name, language")
            ).fetchall()
        return [_template(row) for row in rows]

    async def get(self, name: str, language: str) -> LetterTemplate | None:
        async with self.pool.connection() as conn:
            row = await (
                await conn.execute(
                    f"SELECT {COLUMNS} FROM letter_template WHERE (name, language) = (%s, %s)",
                    (name, language),
                )
            ).fetchone()
        return None if row is None else _template(row)

    async def save(self, template: LetterTemplate, actor: str) -> None:
        async with self.pool.connection() as conn:
            # The template's name locked first (all its languages), so a retire and a save do not cross.
            rows = await (
                await conn.execute(
                    f"SELECT {COLUMNS} FROM letter_template WHERE name = %s FOR UPDATE", (template.name,)
                )
            ).fetchall()
            found = {row[1]: _template(row) for row in rows}
            if any(t.retired for t in found.values()):
                raise InvalidRequest(f"{template.name!r} is retired; save the letter under a new name")
            # The named library paragraphs held (FOR SHARE) until commit, so none is retired under it.
            known = await library(conn, template.paragraphs, in_use_only=True)
            standard_paragraphs.check_known(template.paragraphs, template.language, known)
            before = found[template.language].text() if template.language in found else None
            await conn.execute(
                "INSERT INTO letter_template (name, language, subject, greeting, paragraphs, closing)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (name, language) DO UPDATE SET"
                " subject = EXCLUDED.subject, greeting = EXCLUDED.greeting, paragraphs = EXCLUDED.paragraphs,"
                " closing = EXCLUDED.closing",
                (
                    *template.key,
                    template.subject,
                    template.greeting,
                    list(template.paragraphs),
                    template.closing,
                ),
            )
            if before != template.text():
                await _record(conn, template.key, actor, before, template.text())
            await conn.commit()

    async def retire(self, name: str, actor: str) -> None:
        """Every language of the template retired at once, each retirement audited."""
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    f"SELECT {COLUMNS} FROM letter_template WHERE name = %s AND retired_at IS NULL FOR UPDATE",
                    (name,),
                )
            ).fetchall()
            if not rows:
                raise NotFound(f"there is no letter template {name!r} in use")
            await conn.execute(
                "UPDATE letter_template SET retired_at = now() WHERE name = %s AND retired_at IS NULL",
                (name,),
            )
            for row in rows:
                template = _template(row)
                await _record(conn, template.key, actor, template.text(), None)
            await conn.commit()

    async def library(self, template: LetterTemplate) -> dict[str, dict[str, str]]:
        """The library texts the template names, as they are now."""
        async with self.pool.connection() as conn:
            return await library(conn, template.paragraphs)

    async def changes(self, limit: int = CHANGES_SHOWN) -> list[TemplateChange]:
        async with self.pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT name, language, changed_by, changed_at, before, after FROM letter_template_change"
                    " ORDER BY changed_at DESC, id DESC LIMIT %s",
                    (limit,),
                )
            ).fetchall()
        return [TemplateChange(tuple(r[:2]), r[2], r[3], r[4], r[5]) for r in rows]
