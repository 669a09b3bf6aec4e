"""What screenpop holds about a consumer: the current pops that show them. SQL only.

A pop is a copy of what contacts, billing and fulfillment said while a call rang; it is the extension's
current pop only until the next call, and no total depends on it, so erasure deletes it.
"""

from __future__ import annotations

import psycopg
from crs.screenpop.v1 import privacy_pb2_grpc
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from services.runtime import privacy as runtime_privacy
from services.runtime.privacy import Keys, drop_outbox_rows

_NAMING = """
FROM current_pops
WHERE EXISTS (SELECT 1 FROM unnest(%(needles)s::text[]) n WHERE n <> '' AND strpos(pop::text, n) > 0)
   OR call_id = ANY(%(calls)s)
"""


def _params(keys: Keys) -> dict:
    return {"needles": [keys.consumer_id, *keys.phone_numbers], "calls": list(keys.call_ids)}


async def export(pool: AsyncConnectionPool, keys: Keys):
    async with pool.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        pops = await (
            await cur.execute("SELECT extension, call_id, pop, state, updated_at " + _NAMING, _params(keys))
        ).fetchall()
    return {"current_pops": pops}, []


async def erase(conn: psycopg.AsyncConnection, keys: Keys) -> dict[str, int]:
    pops = await conn.execute("DELETE " + _NAMING, _params(keys))
    events = await drop_outbox_rows(conn, [keys.consumer_id, *keys.phone_numbers])
    return {"current_pops": pops.rowcount, "outbox_events": events}


def servicer(pool: AsyncConnectionPool):
    """Screenpop's Privacy API, ready for services.runtime.grpcio.Server."""
    return runtime_privacy.servicer("screenpop", privacy_pb2_grpc, pool, export, erase)
