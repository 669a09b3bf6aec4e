"""SQL for reply templates (migration 0003). No rules here."""

from __future__ import annotations

import psycopg
from psycopg_pool import AsyncConnectionPool

from services.channels.reply_templates import InvalidTemplate, NoSuchTemplate, Template
from services.runtime.db import autocommit

_COLUMNS = "id, name, language, body, updated_by, updated_at"


class SqlTemplates:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def templates(self) -> list[Template]:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(f"SELECT {_COLUMNS} FROM reply_template")
            return [Template(*row) for row in await cursor.fetchall()]

    async def save(self, template: Template, *, editor: str) -> Template:
        values = (template.name, template.language, template.body, editor)
        try:
            async with autocommit(self.pool) as conn:
                if template.id:
                    cursor = await conn.execute(
                        "UPDATE reply_template SET name = %s, language = %s, body = %s, updated_by = %s,"
                        f" updated_at = now() WHERE id = %s RETURNING {_COLUMNS}",
                        (*values, template.id),
                    )
                else:
                    cursor = await conn.execute(
                        "INSERT INTO reply_template (name, language, body, updated_by) VALUES (%s, %s, %s, %s)"
                        f" RETURNING {_COLUMNS}",
                        values,
                    )
                row = await cursor.fetchone()
        except psycopg.errors.UniqueViolation:
            raise InvalidTemplate(
                f"there is already a template {template.name!r} in {template.language}"
            ) from None
        if row is None:
            raise NoSuchTemplate(f"no template {template.id}")
        return Template(*row)

    async def delete(self, template_id: int) -> bool:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute("DELETE FROM reply_template WHERE id = %s", (template_id,))
            return cursor.rowcount == 1
