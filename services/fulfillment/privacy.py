"""What fulfillment holds about a consumer, exported and erased: SQL only (services/runtime/privacy.py runs it).

Orders, coupons and fulfilment requests keep their products, quantities, values and dates, so stock,
spend and trend figures stay true; the link to the consumer moves to a new random id, and the name,
postal address and household keys on a request, and the letters printed for them, are removed.
"""

from __future__ import annotations

import uuid

import psycopg
from crs.fulfillment.v1 import privacy_pb2_grpc
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from services.runtime import privacy as runtime_privacy
from services.runtime.privacy import Keys, drop_outbox_rows


async def export(pool: AsyncConnectionPool, keys: Keys):
    async with pool.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        ids = (keys.consumer_id,)

        async def rows(sql: str):
            return await (await cur.execute(sql, ids)).fetchall()

        data = {
            "orders": await rows("SELECT * FROM orders WHERE consumer_id = %s ORDER BY placed_at"),
            "order_lines": await rows(
                "SELECT l.* FROM order_line l JOIN orders o ON o.id = l.order_id WHERE o.consumer_id = %s"
            ),
            "products_bought": await rows("SELECT * FROM consumer_product WHERE consumer_id = %s"),
            "fulfillments": await rows(
                "SELECT * FROM fulfillment WHERE consumer_id = %s ORDER BY created_at"
            ),
            "fulfillment_steps": await rows(
                "SELECT s.* FROM fulfillment_step s JOIN fulfillment f ON f.id = s.fulfillment_id"
                " WHERE f.consumer_id = %s ORDER BY s.id"
            ),
            "coupons": await rows("SELECT * FROM coupon WHERE consumer_id = %s"),
            "shipments": await rows(
                "SELECT s.* FROM shipment s JOIN fulfillment f ON f.id = s.fulfillment_id WHERE f.consumer_id = %s"
            ),
        }
        letters = await (
            await cur.execute(
                "SELECT l.fulfillment_id::text AS id, l.pdf FROM letter l"
                " JOIN fulfillment f ON f.id = l.fulfillment_id WHERE f.consumer_id = %s",
                ids,
            )
        ).fetchall()
    attachments = [
        runtime_privacy.pb.Attachment(
            name=f"letters/{letter['id']}.pdf", content_type="application/pdf", content=bytes(letter["pdf"])
        )
        for letter in letters
    ]
    return data, attachments


async def erase(conn: psycopg.AsyncConnection, keys: Keys) -> dict[str, int]:
    if not keys.consumer_id:
        return {}
    anonymous = str(uuid.uuid4())
    ids = (keys.consumer_id,)
    letters = await conn.execute(
        "DELETE FROM letter l USING fulfillment f WHERE f.id = l.fulfillment_id AND f.consumer_id = %s", ids
    )
    # Staff notes on a request may quote the consumer; no one can tell which do, so they all go.
    notes = await conn.execute(
        "UPDATE fulfillment_step s SET note = '' FROM fulfillment f"
        " WHERE f.id = s.fulfillment_id AND f.consumer_id = %s AND s.note <> ''",
        ids,
    )
    requests = await conn.execute(
        """UPDATE fulfillment SET consumer_id = %s, consumer_name = '', email_address = '', address = '{}', household_keys = '{}',
                                 reason = '', updated_at = now()
           WHERE consumer_id = %s""",
        (anonymous, keys.consumer_id),
    )
    orders = await conn.execute(
        "UPDATE orders SET consumer_id = %s WHERE consumer_id = %s", (anonymous, keys.consumer_id)
    )
    coupons = await conn.execute(
        "UPDATE coupon SET consumer_id = %s WHERE consumer_id = %s", (anonymous, keys.consumer_id)
    )
    tally = await conn.execute("DELETE FROM consumer_product WHERE consumer_id = %s", ids)
    events = await drop_outbox_rows(conn, [keys.consumer_id])
    return {
        "orders_unlinked": orders.rowcount,
        "fulfillments_anonymised": requests.rowcount,
        "letters": letters.rowcount,
        "request_notes": notes.rowcount,
        "coupons_unlinked": coupons.rowcount,
        "purchase_tallies": tally.rowcount,
        "outbox_events": events,
    }


def servicer(pool: AsyncConnectionPool):
    """Fulfillment's Privacy API, ready for services.runtime.grpcio.Server."""
    return runtime_privacy.servicer("fulfillment", privacy_pb2_grpc, pool, export, erase)
