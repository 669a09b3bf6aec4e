"""SQL for channels' schema: raw mail, case messages both ways, attachments and the outbox. No rules here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.channels import mail
from services.channels.chat import Chat, Line
from services.channels.intake import bare_subject
from services.channels.letter_mail import AUTHOR, LetterEmail
from services.channels.outbound import Queued, Reply, Thread
from services.runtime.db import autocommit

# How long a replica holds a queued message it is sending before another may try it.
CLAIM = timedelta(minutes=2)


@dataclass(frozen=True)
class MessageRow:
    id: int
    case_id: str
    direction: str
    message_id: str
    from_address: str
    to_address: str
    subject: str
    body: str
    language: str
    delivery: str
    author: str
    created_at: datetime
    attempts: int
    last_error: str
    channel: str = "email"
    attachments: list[dict] = field(default_factory=list)
    fulfillment_id: str = ""


@dataclass(frozen=True)
class RejectionRow:
    id: int
    reason: str
    detail: str
    received_at: datetime
    size: int
    message_id: str = ""
    sender: str = ""


_MESSAGE_COLUMNS = (
    "id, case_id::text, direction, message_id, from_address, to_address, subject, body, language, delivery,"
    " author, created_at, attempts, last_error, channel, attachments, coalesce(fulfillment_id::text, '')"
)


def _message(row) -> MessageRow:
    *head, attachments, fulfillment_id = row
    return MessageRow(*head, attachments=list(attachments or []), fulfillment_id=fulfillment_id)


class SqlStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    # --- inbound -------------------------------------------------------------------------------------
    async def keep_raw(self, raw: bytes, *, envelope_from: str, envelope_to: str) -> int:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(
                "INSERT INTO raw_message (raw, envelope_from, envelope_to) VALUES (%s, %s, %s) RETURNING id",
                (raw, envelope_from[:500], envelope_to[:2000]),
            )
            return (await cursor.fetchone())[0]

    async def reject(self, raw_id: int, reason: str, detail: str) -> None:
        async with autocommit(self.pool) as conn:
            await conn.execute(
                "UPDATE raw_message SET state = 'rejected', reason = %s, detail = %s WHERE id = %s",
                (reason, detail[:1000], raw_id),
            )

    async def thread_of(self, message_ids: tuple[str, ...]) -> tuple[str, int] | None:
        return await self._one_case(
            "SELECT case_id::text, case_reference FROM message WHERE message_id = ANY(%s)"
            " ORDER BY id DESC LIMIT 1",
            (list(message_ids),),
        )

    async def case_with_reference(self, reference: int) -> tuple[str, int] | None:
        return await self._one_case(
            "SELECT case_id::text, case_reference FROM message WHERE case_reference = %s LIMIT 1",
            (reference,),
        )

    async def recent_thread(self, *, sender: str, subject: str, since: datetime) -> tuple[str, int] | None:
        return await self._one_case(
            "SELECT case_id::text, case_reference FROM message WHERE direction = 'inbound'"
            " AND from_address = %s AND thread_subject = %s AND created_at >= %s ORDER BY created_at DESC LIMIT 1",
            (sender, subject, since),
        )

    async def _one_case(self, sql: str, params) -> tuple[str, int] | None:
        async with autocommit(self.pool) as conn:
            row = await (await conn.execute(sql, params)).fetchone()
            return (row[0], row[1]) if row else None

    async def has_message(self, message_id: str) -> bool:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute("SELECT 1 FROM message WHERE message_id = %s", (message_id,))
            return await cursor.fetchone() is not None

    async def bounced(self, message_id: str, *, detail: str) -> str | None:
        async with autocommit(self.pool) as conn:
            row = await (
                await conn.execute(
                    "UPDATE message SET delivery = 'failed', last_error = %s"
                    " WHERE message_id = %s AND direction = 'outbound' RETURNING case_id::text",
                    (detail, message_id),
                )
            ).fetchone()
            if row is None:  # a notice's bounce: no case to tell; SendNotice with its key answers failed
                await conn.execute(
                    "UPDATE notice SET delivery = 'failed', last_error = %s WHERE message_id = %s",
                    (detail, message_id),
                )
            return row[0] if row else None

    async def add_inbound(
        self, *, raw_id: int, case_id: str, reference: int, parsed: mail.Parsed, language: str
    ) -> bool:
        """Record the message on its case; False when its Message-ID is already there."""
        listed = [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "kept": a.kept,
                "reason": a.reason,
            }
            for a in parsed.attachments
        ]
        async with self.pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                "INSERT INTO message (case_id, case_reference, direction, message_id, in_reply_to, refs,"
                " from_address, to_address, subject, thread_subject, body, language, raw_id, attachments,"
                " delivery) VALUES (%s, %s, 'inbound', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'received')"
                " ON CONFLICT (message_id) DO NOTHING RETURNING id",
                (
                    case_id,
                    reference,
                    parsed.message_id,
                    parsed.in_reply_to,
                    list(parsed.references),
                    parsed.sender,
                    parsed.to[:2000],
                    parsed.subject,
                    bare_subject(parsed.subject),
                    parsed.body,
                    language,
                    raw_id,
                    Jsonb(listed),
                ),
            )
            row = await cursor.fetchone()
            if row is None:
                return False
            for item in parsed.attachments:
                if item.kept:
                    await conn.execute(
                        "INSERT INTO attachment (message_id, filename, content_type, content) VALUES (%s, %s, %s, %s)",
                        (row[0], item.filename, item.content_type, item.content),
                    )
            await conn.execute("UPDATE raw_message SET state = 'threaded' WHERE id = %s", (raw_id,))
            return True

    # --- reading -------------------------------------------------------------------------------------
    async def messages(self, case_id: str) -> list[MessageRow]:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM message WHERE case_id = %s ORDER BY id", (case_id,)
            )
            return [_message(row) for row in await cursor.fetchall()]

    async def rejections(self, limit: int) -> list[RejectionRow]:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(
                "SELECT id, reason, detail, received_at, length(raw) FROM raw_message WHERE state = 'rejected'"
                " ORDER BY received_at DESC, id DESC LIMIT %s",
                (limit,),
            )
            return [RejectionRow(*row) for row in await cursor.fetchall()]

    async def raw(self, raw_id: int) -> bytes | None:
        async with autocommit(self.pool) as conn:
            row = await (
                await conn.execute("SELECT raw FROM raw_message WHERE id = %s", (raw_id,))
            ).fetchone()
            return bytes(row[0]) if row else None

    # --- outbound ------------------------------------------------------------------------------------
    async def thread_for_reply(self, case_id: str) -> Thread | None:
        async with autocommit(self.pool) as conn:
            row = await (
                await conn.execute(
                    "SELECT case_reference, from_address, subject, message_id, refs, language FROM message"
                    " WHERE case_id = %s AND direction = 'inbound' AND channel = 'email'"
                    " ORDER BY id DESC LIMIT 1",
                    (case_id,),
                )
            ).fetchone()
            last = await (
                await conn.execute(
                    "SELECT message_id, refs FROM message WHERE case_id = %s AND channel = 'email'"
                    " ORDER BY id DESC LIMIT 1",
                    (case_id,),
                )
            ).fetchone()
        if row is None:
            return None
        reference, address, subject, _, _, language = row
        return Thread(
            case_id=case_id,
            reference=reference,
            consumer_address=address,
            subject=subject,
            last_message_id=last[0],
            references=tuple(last[1] or ()),
            language=language,
        )

    async def queue_reply(self, thread: Thread, reply: Reply, *, author: str) -> MessageRow:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(
                "INSERT INTO message (case_id, case_reference, direction, message_id, in_reply_to, refs,"
                " from_address, to_address, subject, thread_subject, body, language, author, mime, delivery)"
                " VALUES (%s, %s, 'outbound', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'queued')"
                f" RETURNING {_MESSAGE_COLUMNS}",
                (
                    thread.case_id,
                    thread.reference,
                    reply.message_id,
                    reply.in_reply_to,
                    list(reply.references),
                    reply.from_address,
                    reply.to_address,
                    reply.subject,
                    bare_subject(reply.subject),
                    reply.body,
                    thread.language,
                    author,
                    reply.mime,
                ),
            )
            return _message(await cursor.fetchone())

    async def letter_message(self, fulfillment_id: str) -> MessageRow | None:
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM message WHERE fulfillment_id = %s", (fulfillment_id,)
            )
            row = await cursor.fetchone()
            return _message(row) if row else None

    async def queue_letter(self, letter: LetterEmail, mail: Reply, *, reference: int) -> MessageRow:
        """The letter's email in the outbox with its PDF kept as an attachment of the case's message; when
        another call queued this fulfillment's letter first, that message instead."""
        listed = [{"filename": letter.file_name(), "content_type": "application/pdf"}]
        listed[0] |= {"size": len(letter.pdf), "kept": True, "reason": ""}
        async with self.pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                "INSERT INTO message (case_id, case_reference, direction, message_id, in_reply_to, refs,"
                " from_address, to_address, subject, thread_subject, body, language, author, mime, delivery,"
                " attachments, fulfillment_id) VALUES (%s, %s, 'outbound', %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                " %s, %s, 'queued', %s, %s) ON CONFLICT (fulfillment_id) WHERE fulfillment_id IS NOT NULL"
                f" DO NOTHING RETURNING {_MESSAGE_COLUMNS}",
                (
                    letter.case_id,
                    reference,
                    mail.message_id,
                    mail.in_reply_to,
                    list(mail.references),
                    mail.from_address,
                    mail.to_address,
                    mail.subject,
                    bare_subject(mail.subject),
                    mail.body,
                    letter.language,
                    AUTHOR,
                    mail.mime,
                    Jsonb(listed),
                    letter.fulfillment_id,
                ),
            )
            row = await cursor.fetchone()
            if row is not None:
                await conn.execute(
                    "INSERT INTO attachment (message_id, filename, content_type, content) VALUES (%s, %s, %s, %s)",
                    (row[0], letter.file_name(), "application/pdf", letter.pdf),
                )
        return _message(row) if row is not None else await self.letter_message(letter.fulfillment_id)

    async def add_chat_line(
        self, *, chat: Chat, author: str, body: str, inbound: bool, from_address: str, to_address: str
    ) -> Line:
        """One line of a chat, kept on its case before the other side is shown it."""
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(
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
                    body,
                    chat.language,
                    "" if inbound else author,
                    "received" if inbound else "sent",
                ),
            )
            line_id, at = await cursor.fetchone()
        return Line(line_id, author, body, at)

    async def due(self, *, now: datetime, limit: int) -> list[Queued]:
        """Claim up to `limit` queued messages that are due; another replica skips the ones claimed."""
        async with autocommit(self.pool) as conn:
            cursor = await conn.execute(
                "UPDATE message SET next_attempt_at = %(until)s WHERE id IN (SELECT id FROM message"
                " WHERE delivery = 'queued' AND next_attempt_at <= %(now)s ORDER BY next_attempt_at"
                " LIMIT %(limit)s FOR UPDATE SKIP LOCKED)"
                " RETURNING id, case_id::text, mime, from_address, to_address, attempts, subject, author",
                {"now": now, "until": now + CLAIM, "limit": limit},
            )
            return [
                Queued(r[0], r[1], bytes(r[2]), r[3], r[4], r[5], subject=r[6], author=r[7])
                for r in await cursor.fetchall()
            ]

    async def sent(self, message_id: int, *, now: datetime) -> None:
        await self._outbox(
            "UPDATE message SET delivery = 'sent', sent_at = %s, attempts = attempts + 1 WHERE id = %s",
            (now, message_id),
        )

    async def retry(self, message_id: int, *, error: str, at: datetime) -> None:
        await self._outbox(
            "UPDATE message SET attempts = attempts + 1, last_error = %s, next_attempt_at = %s WHERE id = %s",
            (error, at, message_id),
        )

    async def failed(self, message_id: int, *, error: str) -> None:
        await self._outbox(
            "UPDATE message SET delivery = 'failed', attempts = attempts + 1, last_error = %s WHERE id = %s",
            (error, message_id),
        )

    async def _outbox(self, sql: str, params) -> None:
        async with autocommit(self.pool) as conn:
            await conn.execute(sql, params)
