"""The workflow's steps against PostgreSQL, for the worker: blocking psycopg (cooperative under eventlet).

Each call to `advance()` is one transaction that locks the request's row, reads where it is, and does
the single next step of its kind's plan (services/fulfillment/replies.py) together with the move to the
next state, the timeline row and the event in the outbox. Work is therefore done exactly when the move
is committed: a worker killed mid-step leaves nothing, and a redelivered event finds the state already
moved and does nothing. The unique keys (one coupon, reservation, shipment and movement kind per
request) hold even if that reasoning were ever wrong.

Each step also takes a shared advisory lock named after it. Holding that lock exclusively pauses the
step across every worker (for an operator during a carrier outage, or a test that kills a worker at a
chosen step).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import psycopg

from services.fulfillment import (
    coupons,
    letters,
    reply_events,
    standard_paragraphs,
    standard_paragraphs_store,
)
from services.fulfillment.replies import InvalidRequest, Kind, State, Step, next_step

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
GATE_PREFIX = "crs-fulfillment-step:"
# The refund's last move, on billing's confirmation: gated like the steps of a plan.
CREDITED = "credited"


@dataclass(frozen=True)
class Request:
    id: str
    case_id: str
    consumer_id: str
    kind: Kind
    state: State
    stage: str
    value_minor: int
    currency: str
    sku: str
    quantity: int
    template: str
    country: str
    consumer_name: str = ""
    language: str = "en"
    address: dict | None = None
    delivery: str = "post"


@dataclass(frozen=True)
class Settings:
    carrier: str = "demo"


class Outcome(Exception):
    """A step that cannot be done, ever (no stock anywhere): the request fails with this reason."""


REQUEST_COLUMNS = (
    "id::text, case_id::text, consumer_id::text, kind, state, stage, value_minor, currency,"
    " coalesce(sku, ''), quantity, template, country, consumer_name, language, address, delivery"
)


def request_from_row(row) -> Request:
    return Request(row[0], row[1], row[2], Kind(row[3]), State(row[4]), *row[5:])


def _lock(conn: psycopg.Connection, fulfillment_id: str) -> Request | None:
    row = conn.execute(
        f"SELECT {REQUEST_COLUMNS} FROM fulfillment WHERE id = %s FOR UPDATE", (fulfillment_id,)
    ).fetchone()
    return None if row is None else request_from_row(row)


def _event(conn: psycopg.Connection, event) -> None:
    conn.execute(reply_events.OUTBOX_INSERT, reply_events.outbox_row(event))


def move(
    conn: psycopg.Connection, request: Request, to: State, *, stage: str = "", actor: str, note: str = ""
) -> None:
    """The state change, its timeline row and its event: one statement, so one round trip."""
    event = reply_events.changed(
        fulfillment_id=request.id,
        case_id=request.case_id,
        consumer_id=request.consumer_id,
        kind=request.kind.value,
        state=to.value,
        previous_state=request.state.value,
        stage=stage,
        actor=actor,
        note=note,
    )
    conn.execute(
        "WITH moved AS (UPDATE fulfillment SET state = %(to)s, stage = %(stage)s, updated_at = now(),"
        "  attempts = 0, reason = CASE WHEN %(note)s <> '' THEN %(note)s ELSE reason END WHERE id = %(id)s),"
        " step AS (INSERT INTO fulfillment_step (fulfillment_id, state, stage, actor, note)"
        "  VALUES (%(id)s, %(to)s, %(stage)s, %(actor)s, %(note)s)),"
        f" {reply_events.OUTBOX_CTE}",
        {
            "id": request.id,
            "to": to.value,
            "stage": stage,
            "actor": actor,
            "note": note,
            **reply_events.outbox_params(event),
        },
    )


# ---- the steps: each returns the note for the timeline ----


def _issue_coupon(conn, request: Request, settings: Settings) -> str:
    code = coupons.generate()
    conn.execute(
        "INSERT INTO coupon (code, fulfillment_id, consumer_id, value_minor, currency, skus, expires_at)"
        " SELECT %s, %s, %s, %s, %s, %s, now() + valid_days * interval '1 day' FROM coupon_policy",
        (
            code,
            request.id,
            request.consumer_id,
            request.value_minor,
            request.currency,
            [request.sku] if request.sku else [],
        ),
    )
    return f"coupon {code} issued"


def _send_coupon(conn, request: Request, settings: Settings) -> str:
    return "coupon sent to the consumer"


def _request_credit(conn, request: Request, settings: Settings) -> str:
    _event(
        conn,
        reply_events.refund_credit_requested(
            fulfillment_id=request.id,
            consumer_id=request.consumer_id,
            amount_minor=request.value_minor,
            currency=request.currency,
        ),
    )
    return "credit requested from billing"


def _reserve(conn, request: Request, settings: Settings) -> str:
    if not request.country:
        raise Outcome("the consumer has no postal address to send it to")
    # Candidates nearest first by what is known: locations that serve the consumer's country, those in
    # it before others, distribution centres before warehouses. Each UPDATE re-checks availability under
    # the stock row's lock, so concurrent reservations of the last units never oversell.
    candidates = conn.execute(
        "SELECT l.id FROM stock s JOIN location l ON l.id = s.location_id"
        " WHERE s.sku = %(sku)s AND l.kind <> 'store' AND s.on_hand - s.reserved >= %(n)s"
        " AND (cardinality(l.serves) = 0 OR %(country)s = ANY(l.serves) OR l.country = %(country)s)"
        " ORDER BY l.country = %(country)s DESC, l.kind = 'distribution_centre' DESC, l.id",
        {"sku": request.sku, "n": request.quantity, "country": request.country},
    ).fetchall()
    for (location_id,) in candidates:
        taken = conn.execute(
            "UPDATE stock SET reserved = reserved + %s WHERE sku = %s AND location_id = %s"
            " AND on_hand - reserved >= %s RETURNING location_id",
            (request.quantity, request.sku, location_id, request.quantity),
        ).fetchone()
        if taken:
            conn.execute(
                "INSERT INTO reservation (fulfillment_id, sku, location_id, quantity, state) VALUES (%s, %s, %s, %s, 'held')",
                (request.id, request.sku, location_id, request.quantity),
            )
            _movement(conn, request, location_id, "reserved", request.quantity)
            return f"{request.quantity} x {request.sku} reserved at {location_id}"
    raise Outcome(f"no location that serves {request.country} has {request.sku} in stock")


def _movement(conn, request: Request, location_id: str, kind: str, quantity: int) -> None:
    conn.execute(
        "INSERT INTO stock_movement (sku, location_id, kind, quantity, fulfillment_id) VALUES (%s, %s, %s, %s, %s)",
        (request.sku, location_id, kind, quantity, request.id),
    )


def _release(conn, request: Request) -> None:
    """A request giving up while it holds stock puts the units back: available again, with the movement
    (restock sell-through counts what was reserved less what was released)."""
    held = conn.execute(
        "UPDATE reservation SET state = 'released' WHERE fulfillment_id = %s AND state IN ('held', 'picked')"
        " RETURNING location_id, quantity",
        (request.id,),
    ).fetchone()
    if held is None:
        return
    location_id, quantity = held
    conn.execute(
        "UPDATE stock SET reserved = reserved - %s WHERE sku = %s AND location_id = %s",
        (quantity, request.sku, location_id),
    )
    _movement(conn, request, location_id, "released", -quantity)


def _pick(conn, request: Request, settings: Settings) -> str:
    (location_id,) = conn.execute(
        "UPDATE reservation SET state = 'picked' WHERE fulfillment_id = %s AND state = 'held' RETURNING location_id",
        (request.id,),
    ).fetchone()
    return f"picked at {location_id}"


def _ship(conn, request: Request, settings: Settings) -> str:
    location_id, quantity = conn.execute(
        "UPDATE reservation SET state = 'shipped' WHERE fulfillment_id = %s AND state = 'picked'"
        " RETURNING location_id, quantity",
        (request.id,),
    ).fetchone()
    conn.execute(
        "UPDATE stock SET on_hand = on_hand - %s, reserved = reserved - %s WHERE sku = %s AND location_id = %s",
        (quantity, quantity, request.sku, location_id),
    )
    _movement(conn, request, location_id, "shipped", -quantity)
    tracking = _new_shipment(conn, request, settings, location_id)
    return f"shipped by {settings.carrier}, tracking {tracking}"


def _new_shipment(conn, request: Request, settings: Settings, location_id: str) -> str:
    tracking = "CRS" + "".join(secrets.choice("0123456789") for _ in range(12))
    conn.execute(
        "INSERT INTO shipment (fulfillment_id, carrier, tracking_number, status, location_id)"
        " VALUES (%s, %s, %s, 'label_created', %s)",
        (request.id, settings.carrier, tracking, location_id),
    )
    template = conn.execute(
        "SELECT tracking_url FROM carrier WHERE name = %s", (settings.carrier,)
    ).fetchone()
    _event(
        conn,
        reply_events.shipment_changed(
            fulfillment_id=request.id,
            case_id=request.case_id,
            consumer_id=request.consumer_id,
            kind=request.kind.value,
            carrier_status="label_created",
            carrier=settings.carrier,
            tracking_number=tracking,
            tracking_url_template=template[0] if template else "",
        ),
    )
    return tracking


def _print_letter(conn, request: Request, settings: Settings) -> str:
    found = conn.execute(
        "SELECT language, subject, greeting, paragraphs, closing FROM letter_template WHERE name = %s"
        " AND language IN (%s, 'en') ORDER BY language = %s DESC LIMIT 1",
        (request.template, request.language, request.language),
    ).fetchone()
    if found is None:
        raise Outcome(f"there is no letter template {request.template!r}")
    language, subject, greeting, paragraphs, closing = found
    # Its named standard paragraphs in the library's words as they are now.
    texts = standard_paragraphs_store.library_sync(conn, paragraphs)
    try:
        paragraphs = standard_paragraphs.compose(paragraphs, language, texts)
    except InvalidRequest as missing:
        raise Outcome(str(missing)) from missing
    # Enclosures: the coupons this case has been sent, each listed by its code and value.
    enclosed = conn.execute(
        "SELECT c.code, c.value_minor, c.currency FROM coupon c JOIN fulfillment f ON f.id = c.fulfillment_id"
        " WHERE f.case_id = %s ORDER BY c.issued_at",
        (request.case_id,),
    ).fetchall()
    pdf = letters.render(
        letters.StandardLetter(subject, greeting, tuple(paragraphs), closing),
        language=language,
        name=request.consumer_name,
        address=request.address or {},
        enclosures=letters.enclosure_lines(enclosed),
        on=date.today(),
    )
    conn.execute(
        "INSERT INTO letter (fulfillment_id, template, language, pdf) VALUES (%s, %s, %s, %s)",
        (request.id, request.template, language, pdf),
    )
    return f"letter {request.template} ({language}) printed, {len(pdf)} bytes"


def _post_letter(conn, request: Request, settings: Settings) -> str:
    return "letter posted"


def _issue_mailer(conn, request: Request, settings: Settings) -> str:
    return f"prepaid return mailer issued, reference RM-{request.id[:8].upper()}"


def _post_mailer(conn, request: Request, settings: Settings) -> str:
    tracking = _new_shipment(conn, request, settings, "")
    return f"mailer posted; the return parcel is tracked as {tracking}"


DO: dict[tuple[Kind, str], Callable[[psycopg.Connection, Request, Settings], str]] = {
    (Kind.COUPON, "issue"): _issue_coupon,
    (Kind.COUPON, "send"): _send_coupon,
    (Kind.REFUND, "request_credit"): _request_credit,
    (Kind.LETTER, "print"): _print_letter,
    (Kind.LETTER, "post"): _post_letter,
    (Kind.RETURN_MAILER, "issue"): _issue_mailer,
    (Kind.RETURN_MAILER, "post"): _post_mailer,
    **{
        (kind, name): do
        for kind in (Kind.REPLACEMENT, Kind.SAMPLE)
        for name, do in (("reserve", _reserve), ("pick", _pick), ("ship", _ship))
    },
}


def advance(
    conn: psycopg.Connection, fulfillment_id: str, settings: Settings, *, actor: str
) -> tuple[Step | None, bool]:
    """Do the next step of one request, in one transaction: (the step done or None when it waits or is
    finished, whether another step follows at once)."""
    with conn.transaction():
        request = _lock(conn, fulfillment_id)
        if request is None:
            return None, False
        step = next_step(request.kind, request.state, request.stage, request.delivery)
        if step is None:
            return None, False
        conn.execute("SELECT pg_advisory_xact_lock_shared(hashtext(%s))", (GATE_PREFIX + step.name,))
        try:
            with conn.transaction():
                note = DO[(request.kind, step.name)](conn, request, settings)
        except Outcome as failed:
            move(conn, request, State.FAILED, actor=actor, note=str(failed))
            return step, False
        move(conn, request, step.to_state, stage=step.to_stage, actor=actor, note=note)
    return step, next_step(request.kind, step.to_state, step.to_stage, request.delivery) is not None


def run_to_rest(
    conn: psycopg.Connection, fulfillment_id: str, settings: Settings, *, actor: str
) -> list[str]:
    """Advance a request step by step until it waits (for billing, a carrier) or is finished; the state
    just committed says whether a step follows, so a finished request costs no extra transaction."""
    done = []
    more = True
    while more:
        step, more = advance(conn, fulfillment_id, settings, actor=actor)
        if step is None:
            break
        done.append(step.name)
    return done


def record_failure(conn: psycopg.Connection, fulfillment_id: str, error: str, *, actor: str) -> None:
    """Count a step that raised; after MAX_ATTEMPTS the request fails instead of retrying forever."""
    with conn.transaction():
        request = _lock(conn, fulfillment_id)
        if request is None or request.state not in (State.APPROVED, State.IN_PROGRESS):
            return
        (attempts,) = conn.execute(
            "UPDATE fulfillment SET attempts = attempts + 1 WHERE id = %s RETURNING attempts",
            (fulfillment_id,),
        ).fetchone()
        if attempts >= MAX_ATTEMPTS:
            _release(conn, request)
            move(
                conn,
                request,
                State.FAILED,
                actor=actor,
                note=f"gave up after {attempts} attempts: {error[:300]}",
            )


def credit_posted(conn: psycopg.Connection, fulfillment_id: str, entry_id: str, *, actor: str) -> bool:
    """Billing confirmed a refund's credit: the refund is delivered. True when this call moved it."""
    with conn.transaction():
        request = _lock(conn, fulfillment_id)
        if request is None or (request.state, request.stage) != (State.IN_PROGRESS, "credit_requested"):
            return False
        conn.execute("SELECT pg_advisory_xact_lock_shared(hashtext(%s))", (GATE_PREFIX + CREDITED,))
        move(
            conn,
            request,
            State.DELIVERED,
            actor=actor,
            note=f"credit posted to the ledger (entry {entry_id})",
        )
        return True


def stalled(conn: psycopg.Connection, older_than_seconds: float) -> list[str]:
    """Requests that should be moving but have not been touched for a while (a step raised, say)."""
    rows = conn.execute(
        "SELECT id::text FROM fulfillment WHERE state IN ('approved', 'in_progress')"
        " AND NOT (state = 'in_progress' AND stage = 'credit_requested')"
        # A printed letter going by email waits for the API process's mailer, not for a worker.
        " AND NOT (state = 'in_progress' AND stage = 'printed' AND delivery = 'email')"
        " AND updated_at < now() - make_interval(secs => %s) ORDER BY updated_at LIMIT 200",
        (older_than_seconds,),
    ).fetchall()
    return [r[0] for r in rows]


def escalate_overdue(conn: psycopg.Connection, after_seconds: float, *, actor: str) -> list[str]:
    """Mark requests that waited for approval past `after_seconds` as escalated, once each."""
    escalated = []
    with conn.transaction():
        rows = conn.execute(
            "UPDATE fulfillment SET escalated_at = now() WHERE id IN (SELECT id FROM fulfillment"
            " WHERE state = 'awaiting_approval' AND escalated_at IS NULL"
            " AND updated_at < now() - make_interval(secs => %s) LIMIT 200 FOR UPDATE SKIP LOCKED)"
            " RETURNING id::text, case_id::text, consumer_id::text, kind",
            (after_seconds,),
        ).fetchall()
        for fid, case_id, consumer_id, kind in rows:
            note = f"waited for approval over {after_seconds:.0f} s"
            conn.execute(
                "INSERT INTO fulfillment_step (fulfillment_id, state, stage, actor, note)"
                " VALUES (%s, 'awaiting_approval', 'escalated', %s, %s)",
                (fid, actor, note),
            )
            _event(
                conn,
                reply_events.changed(
                    fulfillment_id=fid,
                    case_id=case_id,
                    consumer_id=consumer_id,
                    kind=kind,
                    state="awaiting_approval",
                    previous_state="awaiting_approval",
                    stage="escalated",
                    actor=actor,
                    note=note,
                    event_type=reply_events.ESCALATED,
                ),
            )
            escalated.append(fid)
    return escalated
