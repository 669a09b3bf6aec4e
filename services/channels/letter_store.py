"""Letter scans in PostgreSQL (channels.letter_scan): the uploaded file, its OCR draft, and its case."""

from __future__ import annotations

import uuid

from psycopg_pool import AsyncConnectionPool

from services.channels.letters import Scan
from services.runtime.db import autocommit

COLUMNS = (
    "id, content_type, filename, size, draft, ocr_language, uploaded_by, case_id, case_reference, created_at"
)


def _scan(row) -> Scan:
    return Scan(
        id=str(row[0]),
        content_type=row[1],
        filename=row[2],
        size=row[3],
        draft=row[4],
        ocr_language=row[5],
        uploaded_by=row[6],
        case_id=str(row[7]) if row[7] else "",
        case_reference=row[8],
        created_at=row[9],
    )


class SqlLetterStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    async def add(
        self,
        *,
        data: bytes,
        content_type: str,
        filename: str,
        draft: str,
        ocr_language: str,
        uploaded_by: str,
    ) -> Scan:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(
                "INSERT INTO letter_scan (id, content_type, filename, data, size, draft, ocr_language,"
                f" uploaded_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING {COLUMNS}",
                (
                    uuid.uuid4(),
                    content_type,
                    filename[:200],
                    data,
                    len(data),
                    draft,
                    ocr_language,
                    uploaded_by[:100],
                ),
            )
            return _scan(await cursor.fetchone())

    async def get(self, scan_id: str) -> Scan | None:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(f"SELECT {COLUMNS} FROM letter_scan WHERE id = %s", (scan_id,))
            row = await cursor.fetchone()
        return _scan(row) if row else None

    async def attach(self, scan_id: str, *, case_id: str, case_reference: int) -> bool:
        """Names the scan's case, once: False when another confirmation already did."""
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(
                "UPDATE letter_scan SET case_id = %s, case_reference = %s, confirmed_at = now()"
                " WHERE id = %s AND case_id IS NULL",
                (case_id, case_reference, scan_id),
            )
            return cursor.rowcount == 1

    async def for_case(self, case_id: str) -> list[Scan]:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(
                f"SELECT {COLUMNS} FROM letter_scan WHERE case_id = %s ORDER BY created_at", (case_id,)
            )
            return [_scan(r) for r in await cursor.fetchall()]

    async def data(self, scan_id: str, case_id: str) -> bytes | None:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(
                "SELECT data FROM letter_scan WHERE id = %s AND case_id = %s", (scan_id, case_id)
            )
            row = await cursor.fetchone()
        return bytes(row[0]) if row else None
