"""Reply fulfillment's tables for the asyncio API (schema `fulfillment`): SQL only."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from services.fulfillment import reply_events, standard_paragraphs, standard_paragraphs_store, where_to_buy
from services.fulfillment.coupons import Coupon
from services.fulfillment.replies import (
    ApprovalLimit,
    CouponPolicy,
    Delivery,
    Fulfillment,
    HistoryEntry,
    Shipment,
    State,
)
from services.fulfillment.requesting import Draft
from services.runtime import outbox
from services.runtime.db import autocommit

FULFILLMENT_COLUMNS = (
    "f.id::text, f.case_id::text, f.consumer_id::text, f.kind, f.state, f.stage, f.value_minor, f.currency,"
    " coalesce(f.sku, ''), f.quantity, f.template, f.requested_by, f.decided_by, f.reason, f.created_at,"
    " f.updated_at, f.escalated_at, f.delivery"
)
COUPON_COLUMNS = (
    "code, fulfillment_id::text, value_minor, currency, skus, expires_at, redeemed_at, redemption_reference"
)
SHIPMENT_COLUMNS = "fulfillment_id::text, carrier, tracking_number, status, updated_at, location_id"
NOT_COUNTED = ("cancelled", "failed")
LOCATION_COLUMNS = (
    "l.id, l.name, l.kind, l.country, l.region, l.postcode, coalesce(l.latitude, 0),"
    " coalesce(l.longitude, 0), l.serves"
)


def _fulfillment(row, **extra) -> Fulfillment:
    *head, delivery = row
    return Fulfillment(*head, delivery=delivery, **extra)


def _coupon(row) -> Coupon:
    code, fid, value, currency, skus, expires, redeemed, reference = row
    return Coupon(code, fid, value, currency, tuple(skus), expires, redeemed, reference)


class SqlTransaction:
    def __init__(self, conn: psycopg.AsyncConnection):
        self.conn = conn

    async def _one(self, query: str, params=()):
        return await (await self.conn.execute(query, params)).fetchone()

    async def by_idempotency_key(self, key: str) -> str | None:
        row = await self._one("SELECT id::text FROM fulfillment WHERE idempotency_key = %s", (key,))
        return row[0] if row else None

    async def lock_consumer(self, consumer_id: str, household_keys: tuple[str, ...]) -> None:
        # Sorted, so two requests sharing keys take their locks in the same order and cannot deadlock.
        keys = sorted({f"consumer:{consumer_id}", *household_keys})
        await self.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('crs-fulfillment:' || k)) FROM unnest(%s::text[]) k",
            (keys,),
        )

    async def approval_limit(self, username: str, role: str, currency: str) -> ApprovalLimit | None:
        row = await self._one(
            "SELECT max_value_minor, max_period_minor, period_days FROM approval_limit"
            " WHERE currency = %s AND ((scope = 'agent' AND name = %s) OR (scope = 'role' AND name = %s))"
            " ORDER BY scope = 'agent' DESC LIMIT 1",
            (currency, username, role),
        )
        return ApprovalLimit(*row) if row else None

    async def consumer_total(self, consumer_id: str, currency: str, since: datetime) -> int:
        row = await self._one(
            "SELECT coalesce(sum(value_minor), 0) FROM fulfillment WHERE consumer_id = %s AND currency = %s"
            " AND created_at >= %s AND state <> ALL(%s)",
            (consumer_id, currency, since, list(NOT_COUNTED)),
        )
        return int(row[0])

    async def coupon_policy(self) -> CouponPolicy:
        row = await self._one(
            "SELECT max_per_consumer, max_per_household, period_days, valid_days FROM coupon_policy"
        )
        return CouponPolicy(*row)

    async def coupon_counts(
        self, consumer_id: str, household_keys: tuple[str, ...], since: datetime
    ) -> tuple[int, int]:
        row = await self._one(
            "SELECT count(*) FILTER (WHERE consumer_id = %(consumer)s),"
            " count(*) FILTER (WHERE consumer_id = %(consumer)s OR household_keys && %(keys)s::text[])"
            " FROM fulfillment WHERE kind = 'coupon' AND created_at >= %(since)s AND state <> ALL(%(gone)s)"
            " AND (consumer_id = %(consumer)s OR household_keys && %(keys)s::text[])",
            {
                "consumer": consumer_id,
                "keys": list(household_keys),
                "since": since,
                "gone": list(NOT_COUNTED),
            },
        )
        return int(row[0]), int(row[1])

    async def insert(self, draft: Draft) -> datetime:
        """The request, its first two steps and their events: one statement, one round trip. Returns
        the transaction's time, which the rows carry (their columns default to now())."""
        new, who = draft.request, draft.requested_by
        steps = [(State.REQUESTED, "", ""), (draft.state, draft.reason, State.REQUESTED)]
        events = [
            reply_events.changed(
                fulfillment_id=draft.id,
                case_id=new.case_id,
                consumer_id=draft.household.consumer_id,
                kind=new.kind.value,
                state=state.value,
                previous_state=previous,
                actor=who.username,
                note=note,
            )
            for state, note, previous in steps
        ]
        written = await self._one(
            "WITH made AS (INSERT INTO fulfillment (id, case_id, consumer_id, kind, state, value_minor,"
            "  currency, sku, quantity, template, country, household_keys, requested_by, requested_role,"
            "  reason, idempotency_key, consumer_name, language, address, delivery, email_address)"
            "  VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            "  RETURNING id),"
            # The steps reference the request: inserted from `made`, so the key is checked after it.
            " steps AS (INSERT INTO fulfillment_step (fulfillment_id, state, stage, actor, note)"
            "  SELECT made.id, s.state, '', %s, s.note FROM made,"
            "  unnest(%s::text[], %s::text[]) WITH ORDINALITY AS s(state, note, n) ORDER BY s.n),"
            " added AS (INSERT INTO outbox (event_id, exchange, routing_key, correlation_id, body)"
            "  SELECT e.id, e.exchange, e.key, e.correlation, e.body FROM unnest(%s::uuid[], %s::text[],"
            "  %s::text[], %s::text[], %s::bytea[]) WITH ORDINALITY AS e(id, exchange, key, correlation, body, n)"
            "  ORDER BY e.n)"
            " SELECT now(), pg_notify(current_schema() || '_outbox', '')",
            (
                draft.id,
                new.case_id,
                draft.household.consumer_id,
                new.kind.value,
                draft.state.value,
                new.value_minor,
                new.currency,
                new.sku or None,
                new.quantity,
                new.template,
                draft.household.country,
                list(draft.household.household_keys),
                who.username,
                who.role,
                draft.reason,
                new.idempotency_key or None,
                draft.household.name,
                draft.household.language,
                Jsonb(draft.household.address),
                new.delivery.value,
                draft.household.email if new.delivery is Delivery.EMAIL else "",
                who.username,
                [state.value for state, _, _ in steps],
                [note for _, note, _ in steps],
                [e.id for e in events],
                [e.exchange for e in events],
                [e.type for e in events],
                [e.correlation_id for e in events],
                [e.to_json() for e in events],
            ),
        )
        return written[0]

    async def _step(self, fulfillment_id: str, state: str, stage: str, actor: str, note: str) -> None:
        await self.conn.execute(
            "INSERT INTO fulfillment_step (fulfillment_id, state, stage, actor, note) VALUES (%s, %s, %s, %s, %s)",
            (fulfillment_id, state, stage, actor, note),
        )

    async def lock(self, fulfillment_id: str) -> Fulfillment | None:
        row = await self._one(
            f"SELECT {FULFILLMENT_COLUMNS} FROM fulfillment f WHERE id = %s FOR UPDATE", (fulfillment_id,)
        )
        return _fulfillment(row) if row else None

    async def move(self, found: Fulfillment, to: State, actor: str, note: str, *, stage: str = "") -> None:
        """Change the state, write the step and its event: the one way a request's state changes here."""
        await self.conn.execute(
            "UPDATE fulfillment SET state = %s, stage = %s, reason = %s, updated_at = now() WHERE id = %s",
            (to.value, stage, note or found.reason, found.id),
        )
        await self._step(found.id, to.value, stage, actor, note)
        await outbox.add_event(
            self.conn,
            reply_events.changed(
                fulfillment_id=found.id,
                case_id=found.case_id,
                consumer_id=found.consumer_id,
                kind=found.kind,
                state=to.value,
                previous_state=found.state,
                stage=stage,
                actor=actor,
                note=note,
            ),
        )

    async def announce_shipment(self, found: Fulfillment, shipment: Shipment) -> None:
        """The shipment's new status as `shipment_changed`, in the transaction that records it."""
        row = await self._one("SELECT tracking_url FROM carrier WHERE name = %s", (shipment.carrier,))
        await outbox.add_event(
            self.conn,
            reply_events.shipment_changed(
                fulfillment_id=found.id,
                case_id=found.case_id,
                consumer_id=found.consumer_id,
                kind=found.kind,
                carrier_status=shipment.status,
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                tracking_url_template=row[0] if row else "",
            ),
        )

    async def decide(self, fulfillment: Fulfillment, to: State, actor: str, reason: str) -> None:
        await self.conn.execute(
            "UPDATE fulfillment SET decided_by = %s WHERE id = %s", (actor, fulfillment.id)
        )
        await self.move(fulfillment, to, actor, reason)

    async def commit(self) -> None:
        await self.conn.commit()


class SqlStore:
    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    @asynccontextmanager
    async def transaction(self):
        async with self.pool.connection() as conn:
            tx = SqlTransaction(conn)
            try:
                yield tx
            finally:
                await conn.rollback()

    async def _all(self, query: str, params=()) -> list[tuple]:
        async with autocommit(self.pool) as conn:
            return await (await conn.execute(query, params)).fetchall()

    async def get(self, fulfillment_id: str) -> Fulfillment | None:
        # The request, its steps, coupon and shipment: four reads on one pooled connection.
        async with autocommit(self.pool) as conn:
            cursors = [
                await conn.execute(query, (fulfillment_id,))
                for query in (
                    f"SELECT {FULFILLMENT_COLUMNS} FROM fulfillment f WHERE id = %s",
                    "SELECT occurred_at, state, stage, actor, note FROM fulfillment_step"
                    " WHERE fulfillment_id = %s ORDER BY id",
                    "SELECT code FROM coupon WHERE fulfillment_id = %s",
                    f"SELECT {SHIPMENT_COLUMNS} FROM shipment WHERE fulfillment_id = %s",
                )
            ]
            rows, history, code, shipment = [await c.fetchall() for c in cursors]
        if not rows:
            return None
        return _fulfillment(
            rows[0],
            coupon_code=code[0][0] if code else "",
            shipment=Shipment(*shipment[0]) if shipment else None,
            history=tuple(HistoryEntry(*h) for h in history),
        )

    async def list(self, *, case_id: str, state: str, limit: int) -> list[Fulfillment]:
        where, params = [], []
        if case_id:
            where.append("case_id = %s")
            params.append(case_id)
        if state:
            where.append("state = %s")
            params.append(state)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = await self._all(
            f"SELECT {FULFILLMENT_COLUMNS} FROM fulfillment f {clause} ORDER BY created_at, id LIMIT %s",
            (*params, limit),
        )
        return [_fulfillment(r) for r in rows]

    async def coupon(self, code: str) -> Coupon | None:
        rows = await self._all(f"SELECT {COUPON_COLUMNS} FROM coupon WHERE code = %s", (code,))
        return _coupon(rows[0]) if rows else None

    async def redeem(self, code: str, reference: str, now: datetime) -> Coupon | None:
        # One statement: of two clearing houses redeeming at once, exactly one finds it unredeemed.
        rows = await self._all(
            "UPDATE coupon SET redeemed_at = %s, redemption_reference = %s"
            f" WHERE code = %s AND redeemed_at IS NULL AND expires_at > %s RETURNING {COUPON_COLUMNS}",
            (now, reference, code, now),
        )
        return _coupon(rows[0]) if rows else None

    async def letter(self, fulfillment_id: str) -> tuple | None:
        rows = await self._all(
            "SELECT fulfillment_id::text, template, language, pdf, created_at FROM letter WHERE fulfillment_id = %s",
            (fulfillment_id,),
        )
        return rows[0] if rows else None

    async def letter_template(self, name: str, language: str) -> tuple | None:
        """The standard letter in `language`, or in English when it has none there; a retired one is not."""
        rows = await self._all(
            "SELECT language, subject, greeting, paragraphs, closing FROM letter_template WHERE name = %s"
            " AND retired_at IS NULL AND language IN (%s, 'en') ORDER BY language = %s DESC LIMIT 1",
            (name, language, language),
        )
        if not rows:
            return None
        # Its named standard paragraphs in the library's words as they are now.
        found, subject, greeting, paragraphs, closing = rows[0]
        async with autocommit(self.pool) as conn:
            texts = await standard_paragraphs_store.library(conn, paragraphs)
        return (
            found,
            subject,
            greeting,
            list(standard_paragraphs.compose(paragraphs, found, texts)),
            closing,
        )

    async def case_coupons(self, case_id: str) -> list[tuple[str, int, str]]:
        return await self._all(
            "SELECT c.code, c.value_minor, c.currency FROM coupon c JOIN fulfillment f ON f.id = c.fulfillment_id"
            " WHERE f.case_id = %s ORDER BY c.issued_at",
            (case_id,),
        )

    async def shipment_by_tracking(self, carrier: str, tracking: str) -> Shipment | None:
        rows = await self._all(
            f"SELECT {SHIPMENT_COLUMNS} FROM shipment WHERE carrier = %s AND tracking_number = %s",
            (carrier, tracking),
        )
        return Shipment(*rows[0]) if rows else None

    async def moving_shipments(self, carrier: str) -> list[Shipment]:
        rows = await self._all(
            f"SELECT {SHIPMENT_COLUMNS} FROM shipment WHERE carrier = %s"
            " AND status NOT IN ('delivered', 'returned', 'lost') ORDER BY updated_at LIMIT 500",
            (carrier,),
        )
        return [Shipment(*r) for r in rows]

    async def set_shipment_status(
        self, shipment: Shipment, status: str, at: datetime, outcome: State | None
    ) -> Shipment:
        """Record a carrier's status and, when it ends the journey, move the request on; one transaction."""
        async with self.transaction() as tx:
            row = await tx._one(
                f"UPDATE shipment SET status = %s, updated_at = %s WHERE fulfillment_id = %s"
                f" AND status <> %s RETURNING {SHIPMENT_COLUMNS}",
                (status, at, shipment.fulfillment_id, status),
            )
            if row is None:
                return shipment  # the same status again: nothing changes
            found = await tx.lock(shipment.fulfillment_id)
            if found is not None:
                await tx.announce_shipment(found, Shipment(*row))
            if outcome is not None and found is not None and found.state == State.SHIPPED:
                await tx.move(found, outcome, shipment.carrier, f"carrier: {status}")
            await tx.commit()
            return Shipment(*row)

    async def import_stock(self, locations: list[tuple], rows: list[tuple[str, str, int]]) -> int:
        """Upsert locations, then set each counted quantity; the difference is an `adjusted` movement."""
        adjusted = 0
        async with self.transaction() as tx:
            conn = tx.conn
            async with conn.cursor() as cur:
                await cur.executemany(
                    "INSERT INTO location (id, name, kind, country, region, postcode, latitude, longitude, serves)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET"
                    " name = excluded.name, kind = excluded.kind, country = excluded.country,"
                    " region = excluded.region, postcode = excluded.postcode, latitude = excluded.latitude,"
                    " longitude = excluded.longitude, serves = excluded.serves",
                    locations,
                )
            for sku, location_id, counted in rows:
                row = await tx._one(
                    "WITH before AS (SELECT on_hand FROM stock WHERE sku = %(sku)s AND location_id = %(loc)s FOR UPDATE),"
                    " put AS (INSERT INTO stock (sku, location_id, on_hand) VALUES (%(sku)s, %(loc)s, %(n)s)"
                    "  ON CONFLICT (sku, location_id) DO UPDATE SET on_hand = excluded.on_hand RETURNING on_hand)"
                    " SELECT %(n)s - coalesce((SELECT on_hand FROM before), 0)",
                    {"sku": sku, "loc": location_id, "n": counted},
                )
                delta = int(row[0])
                if delta:
                    adjusted += 1
                    await conn.execute(
                        "INSERT INTO stock_movement (sku, location_id, kind, quantity) VALUES (%s, %s, 'adjusted', %s)",
                        (sku, location_id, delta),
                    )
            await tx.commit()
        return adjusted

    async def place_postcode(self, country: str, postcode: str) -> tuple[float, float] | None:
        rows = await self._all(
            "SELECT latitude, longitude FROM postcode WHERE country = %s AND postcode = %s",
            (country, postcode),
        )
        return (rows[0][0], rows[0][1]) if rows else None

    async def nearest_stores(
        self, sku: str, latitude: float, longitude: float, limit: int
    ) -> list[where_to_buy.Nearby]:
        # Widening boxes: within a box of half-width r km every store nearer than r is found, so when
        # `limit` of them are, they are the nearest; otherwise the box grows, and at last is the world.
        for radius in (*where_to_buy.SEARCH_RADII_KM, None):
            box = where_to_buy.box(latitude, longitude, radius) if radius else None
            rows = await self._all(
                f"SELECT * FROM (SELECT {LOCATION_COLUMNS}, s.on_hand - s.reserved,"
                " 2 * %(r)s * asin(sqrt(power(sin(radians(l.latitude - %(lat)s) / 2), 2)"
                "  + cos(radians(%(lat)s)) * cos(radians(l.latitude))"
                "  * power(sin(radians(l.longitude - %(lon)s) / 2), 2))) AS km"
                " FROM location l JOIN stock s ON s.location_id = l.id AND s.sku = %(sku)s"
                " WHERE l.kind = 'store' AND s.on_hand - s.reserved > 0"
                " AND l.latitude IS NOT NULL AND l.longitude IS NOT NULL"
                + (
                    " AND l.latitude BETWEEN %(south)s AND %(north)s"
                    " AND l.longitude BETWEEN %(west)s AND %(east)s"
                    if box
                    else ""
                )
                + ") found WHERE %(within)s::float8 IS NULL OR km <= %(within)s ORDER BY km, 1 LIMIT %(n)s",
                {
                    "r": where_to_buy.EARTH_RADIUS_KM,
                    "lat": latitude,
                    "lon": longitude,
                    "sku": sku,
                    "n": limit,
                    "within": radius if box else None,
                    **(box or {}),
                },
            )
            if len(rows) >= limit or box is None:
                return [where_to_buy.Nearby(tuple(r[:9]), r[9], r[10]) for r in rows]
        return []

    async def import_postcodes(self, places: list[tuple[str, str, float, float]]) -> int:
        async with self.transaction() as tx, tx.conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO postcode (country, postcode, latitude, longitude) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (country, postcode) DO UPDATE SET latitude = excluded.latitude,"
                " longitude = excluded.longitude",
                places,
            )
            await tx.commit()
        return len(places)

    async def stock(self, sku: str) -> list[tuple]:
        return await self._all(
            f"SELECT {LOCATION_COLUMNS}, s.on_hand, s.reserved, s.reorder_point"
            " FROM stock s JOIN location l ON l.id = s.location_id WHERE s.sku = %s ORDER BY l.id",
            (sku,),
        )
