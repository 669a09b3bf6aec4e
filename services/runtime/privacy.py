"""The plumbing of every service's Privacy API (protos/crs/<service>/v1/privacy.proto).

Each service supplies two functions over its own tables: `export(keys)` gives a JSON-able dict (and any
files), `erase(conn, keys)` anonymises or deletes inside the transaction it is given and returns counts by
kind. This module makes the erasure happen once per erasure id (the `erasure_log` table every schema has)
and turns both into the common messages.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import grpc
import psycopg
from crs.common.v1 import privacy_pb2 as pb
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool


@dataclass(frozen=True)
class Keys:
    consumer_id: str
    phone_numbers: tuple[str, ...]
    recording_keys: tuple[str, ...]
    call_ids: tuple[str, ...]

    @classmethod
    def from_pb(cls, message: pb.ConsumerKeys) -> Keys:
        consumer_id = message.consumer_id
        if consumer_id:
            consumer_id = str(uuid.UUID(consumer_id))
        return cls(
            consumer_id=consumer_id,
            phone_numbers=tuple(message.phone_numbers),
            recording_keys=tuple(message.recording_keys),
            call_ids=tuple(message.call_ids),
        )


def keys_to_pb(*, consumer_id: str, phone_numbers=(), recording_keys=(), call_ids=()) -> pb.ConsumerKeys:
    return pb.ConsumerKeys(
        consumer_id=consumer_id,
        phone_numbers=list(phone_numbers),
        recording_keys=list(recording_keys),
        call_ids=list(call_ids),
    )


def to_json(data: Any) -> str:
    """JSON of rows as PostgreSQL returns them: times as ISO 8601, UUIDs and decimals as strings."""

    def default(value):
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, uuid.UUID | Decimal):
            return str(value)
        if isinstance(value, bytes | memoryview):
            return f"<{len(bytes(value))} bytes>"
        raise TypeError(f"not JSON: {type(value).__name__}")

    return json.dumps(data, default=default, ensure_ascii=False, sort_keys=True)


async def erase_once(
    pool: AsyncConnectionPool,
    erasure_id: str,
    erase: Callable[[psycopg.AsyncConnection], Awaitable[Mapping[str, int]]],
) -> tuple[dict[str, int], datetime]:
    """Run `erase` in one transaction unless `erasure_id` already ran here; either way, its first answer."""
    erasure_id = str(uuid.UUID(erasure_id))
    async with pool.connection() as conn, conn.transaction():
        # Two calls with one id at once: the second waits, then finds the first's answer.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (erasure_id,))
        row = await (
            await conn.execute(
                "SELECT erased, erased_at FROM erasure_log WHERE erasure_id = %s", (erasure_id,)
            )
        ).fetchone()
        if row is not None:
            return dict(row[0]), row[1]
        erased = {kind: int(count) for kind, count in (await erase(conn)).items()}
        row = await (
            await conn.execute(
                "INSERT INTO erasure_log (erasure_id, erased) VALUES (%s, %s) RETURNING erased_at",
                (erasure_id, Jsonb(erased)),
            )
        ).fetchone()
        return erased, row[0]


def erase_response(service: str, erased: Mapping[str, int], at: datetime) -> pb.EraseConsumerResponse:
    response = pb.EraseConsumerResponse(service=service, erased=dict(erased))
    response.erased_at.FromDatetime(at)
    return response


class PrivacyServicer:
    """A service's Privacy API over its own export and erase functions (grpc.aio)."""

    def __init__(
        self,
        *,
        service: str,
        pool: AsyncConnectionPool,
        export: Callable[[Keys], Awaitable[tuple[dict[str, Any], list[pb.Attachment]]]],
        erase: Callable[[psycopg.AsyncConnection, Keys], Awaitable[Mapping[str, int]]],
    ):
        self.service = service
        self.pool = pool
        self.export = export
        self.erase = erase

    async def _keys(self, message, context) -> Keys:
        try:
            return Keys.from_pb(message)
        except ValueError:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "consumer_id: not a UUID")

    async def ExportConsumer(self, request: pb.ExportConsumerRequest, context) -> pb.ExportConsumerResponse:
        keys = await self._keys(request.consumer, context)
        data, attachments = await self.export(keys)
        return pb.ExportConsumerResponse(
            service=self.service, data_json=to_json(data), attachments=attachments
        )

    async def EraseConsumer(self, request: pb.EraseConsumerRequest, context) -> pb.EraseConsumerResponse:
        keys = await self._keys(request.consumer, context)
        try:
            uuid.UUID(request.erasure_id)
        except ValueError:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "erasure_id: not a UUID")
        erased, at = await erase_once(self.pool, request.erasure_id, lambda conn: self.erase(conn, keys))
        return erase_response(self.service, erased, at)


async def drop_outbox_rows(conn: psycopg.AsyncConnection, needles: list[str]) -> int:
    """Delete unpublished events whose body carries one of `needles` (an id, a number, an address).

    An event not yet relayed is the only copy of what it says; once the person is erased it would only
    put them back on the bus.
    """
    needles = [n for n in needles if n]
    if not needles:
        return 0
    deleted = await conn.execute(
        "DELETE FROM outbox WHERE EXISTS (SELECT 1 FROM unnest(%s::text[]) n"
        " WHERE position(convert_to(n, 'UTF8') in body) > 0)",
        (needles,),
    )
    return deleted.rowcount


def servicer(service: str, module, pool, export, erase):
    """The Privacy servicer of `service`, ready for services.runtime.grpcio.Server.

    `module` is the service's generated privacy_pb2_grpc; `export(pool, keys)` and `erase(conn, keys)`.
    """
    from services.runtime.grpcio import Servicer

    implementation = PrivacyServicer(
        service=service, pool=pool, export=lambda keys: export(pool, keys), erase=erase
    )
    return Servicer(implementation, module.add_PrivacyServicer_to_server, f"crs.{service}.v1.Privacy")
