"""SQL for files sent in chats: a chat line on the case's messages with its attachment row, in one step."""

from __future__ import annotations

import uuid

from psycopg.types.json import Jsonb

from services.channels.chat import Chat
from services.channels.chat_files import StoredFile
from services.channels.chat_shapes import Line
from services.runtime.db import autocommit


class SqlChatFiles:
    def __init__(self, pool):
        self.pool = pool

    async def add_chat_file(
        self,
        *,
        chat: Chat,
        author: str,
        inbound: bool,
        from_address: str,
        to_address: str,
        filename: str,
        content_type: str,
        content: bytes,
    ) -> Line:
        async with self.pool.connection() as conn, conn.transaction():
            line_id, at = await (
                await conn.execute(
                    "INSERT INTO message (case_id, case_reference, channel, chat_id, direction, message_id,"
                    " from_address, to_address, subject, body, language, author, delivery)"
                    " VALUES (%s, %s, 'chat', %s, %s, %s, %s, %s, 'Chat', %s, %s, %s, %s)"
                    " RETURNING id, created_at",
                    (
                        chat.case_id,
                        chat.reference,
                        chat.id,
                        "inbound" if inbound else "outbound",
                        f"<chat.{chat.id}.{uuid.uuid4().hex}@chat.invalid>",
                        from_address[:200],
                        to_address[:200],
                        filename,
                        chat.language,
                        "" if inbound else author,
                        "received" if inbound else "sent",
                    ),
                )
            ).fetchone()
            (file_id,) = await (
                await conn.execute(
                    "INSERT INTO attachment (message_id, filename, content_type, content)"
                    " VALUES (%s, %s, %s, %s) RETURNING id",
                    (line_id, filename, content_type, content),
                )
            ).fetchone()
            shown = {"id": file_id, "filename": filename, "content_type": content_type, "size": len(content)}
            await conn.execute(
                "UPDATE message SET attachments = %s WHERE id = %s",
                (Jsonb([shown | {"kept": True, "reason": ""}]), line_id),
            )
        return Line(line_id, author, filename, at, file=shown)

    async def attachment(self, attachment_id: int) -> StoredFile | None:
        async with autocommit(self.pool) as conn:
            row = await (
                await conn.execute(
                    "SELECT a.id, m.case_id::text, coalesce(m.chat_id, ''), a.filename, a.content_type,"
                    " a.content FROM attachment a JOIN message m ON m.id = a.message_id WHERE a.id = %s",
                    (attachment_id,),
                )
            ).fetchone()
        if row is None:
            return None
        *head, content = row
        return StoredFile(*head, content=bytes(content))
