"""Many ready requests moved along in one transaction: the worker's fast path.

A transaction per step costs about eight round trips and a commit for each request (lock, gate,
savepoint, the step, the move, commit); a coupon's two steps cost sixteen. Here the requests that
arrived together are locked in one statement, each is taken through every step it can do at once (in
rounds, the requests at the same step side by side: every coupon of the batch is issued by one insert),
and all the moves (state, timeline row, outbox event) are written in one statement before the commit.

Exactly once holds as it does for one request (services/fulfillment/workflow_store.py): the work and
the moves commit together or not at all, and a redelivered event finds the state already moved.

Anything unusual is left to the one-request path, which waits, retries and fails requests as before:
- a request whose row another transaction holds (SKIP LOCKED: a batch never waits behind one request);
- a request whose next step's gate is held (an operator pausing a step pauses only that step; the
  one-request path then waits at the gate, after the steps done here have committed);
- every request of a batch in which anything raised, an `Outcome` included: the batch rolls back whole,
  since a request cannot be undone alone without a savepoint per request, which is what this avoids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import psycopg

from services.fulfillment import coupons, reply_events
from services.fulfillment.replies import Kind, State, Step, next_step
from services.fulfillment.workflow_store import (
    DO,
    GATE_PREFIX,
    REQUEST_COLUMNS,
    Request,
    Settings,
    request_from_row,
)


@dataclass
class Batch:
    """What one batch did: the steps done per request, and the requests left to the one-request path."""

    done: dict[str, list[str]] = field(default_factory=dict)
    left: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Move:
    request: Request  # as it was before this move
    to: State
    stage: str
    note: str


def run_together(
    conn: psycopg.Connection, fulfillment_ids: list[str], settings: Settings, *, actor: str
) -> Batch:
    """Advance each request until it waits or is finished, all in one transaction.

    Raises whatever a step raised, with nothing written; the caller then takes each request alone.
    """
    batch = Batch()
    wanted = sorted(set(fulfillment_ids))
    with conn.transaction():
        # In id order, so two workers locking overlapping batches cannot deadlock.
        rows = conn.execute(
            f"SELECT {REQUEST_COLUMNS} FROM fulfillment WHERE id = ANY(%s::uuid[])"
            " ORDER BY id FOR UPDATE SKIP LOCKED",
            (wanted,),
        ).fetchall()
        locked = {row[0] for row in rows}
        batch.left.extend(fid for fid in wanted if fid not in locked)
        gates: dict[str, bool] = {}
        moves: list[_Move] = []
        moving = list(map(request_from_row, rows))
        for request in moving:
            batch.done[request.id] = []
        # In rounds: every request's next step, those of one kind and step done side by side.
        while moving:
            ready: dict[Step, list[Request]] = {}
            for request in moving:
                step = next_step(request.kind, request.state, request.stage, request.delivery)
                if step is None:
                    continue
                if _gate_open(conn, gates, step.name):
                    ready.setdefault(step, []).append(request)
                else:
                    batch.left.append(request.id)
            moving = []
            for step, requests in ready.items():
                for request, note in zip(requests, _do(conn, step, requests, settings), strict=True):
                    moves.append(_Move(request, step.to_state, step.to_stage, note))
                    batch.done[request.id].append(step.name)
                    moving.append(replace(request, state=step.to_state, stage=step.to_stage))
        _write_moves(conn, moves, actor)
    return batch


def _do(conn: psycopg.Connection, step: Step, requests: list[Request], settings: Settings) -> list[str]:
    """One step for several requests of one kind: in one statement where the step has that form."""
    kind = requests[0].kind
    together = DO_TOGETHER.get((kind, step.name))
    if together is not None:
        return together(conn, requests, settings)
    return [DO[(kind, step.name)](conn, request, settings) for request in requests]


def _issue_coupons(conn, requests: list[Request], settings: Settings) -> list[str]:
    """workflow_store's coupon issue for several requests in one statement."""
    codes = [coupons.generate() for _ in requests]
    conn.execute(
        "INSERT INTO coupon (code, fulfillment_id, consumer_id, value_minor, currency, skus, expires_at)"
        " SELECT c.code, c.fid, c.consumer, c.value, c.currency,"
        "  CASE WHEN c.sku = '' THEN '{}'::text[] ELSE ARRAY[c.sku] END,"
        "  now() + p.valid_days * interval '1 day'"
        " FROM unnest(%s::text[], %s::uuid[], %s::uuid[], %s::bigint[], %s::text[], %s::text[])"
        "  AS c(code, fid, consumer, value, currency, sku), coupon_policy p",
        (
            codes,
            [r.id for r in requests],
            [r.consumer_id for r in requests],
            [r.value_minor for r in requests],
            [r.currency for r in requests],
            [r.sku for r in requests],
        ),
    )
    return [f"coupon {code} issued" for code in codes]


# Steps done for several requests in one statement; the others are done one request at a time.
DO_TOGETHER: dict[tuple[Kind, str], Callable[[psycopg.Connection, list[Request], Settings], list[str]]] = {
    (Kind.COUPON, "issue"): _issue_coupons,
}


def _gate_open(conn: psycopg.Connection, gates: dict[str, bool], step: str) -> bool:
    """Take the step's shared gate without waiting; asked once per step name and batch."""
    if step not in gates:
        (gates[step],) = conn.execute(
            "SELECT pg_try_advisory_xact_lock_shared(hashtext(%s))", (GATE_PREFIX + step,)
        ).fetchone()
    return gates[step]


def _write_moves(conn: psycopg.Connection, moves: list[_Move], actor: str) -> None:
    """Every move's state change, timeline row and event: one statement for the whole batch."""
    if not moves:
        return
    final: dict[str, tuple[str, str, str]] = {}
    for move in moves:
        # Where each request ends, and its reason: the last move's note that says anything.
        reason = move.note or (final.get(move.request.id) or ("", "", ""))[2]
        final[move.request.id] = (move.to.value, move.stage, reason)
    events = [
        reply_events.changed(
            fulfillment_id=m.request.id,
            case_id=m.request.case_id,
            consumer_id=m.request.consumer_id,
            kind=m.request.kind.value,
            state=m.to.value,
            previous_state=m.request.state.value,
            stage=m.stage,
            actor=actor,
            note=m.note,
        )
        for m in moves
    ]
    conn.execute(
        "WITH moved AS (UPDATE fulfillment f SET state = m.state, stage = m.stage, updated_at = now(),"
        "  attempts = 0, reason = CASE WHEN m.reason <> '' THEN m.reason ELSE f.reason END"
        "  FROM unnest(%(ids)s::uuid[], %(states)s::text[], %(stages)s::text[], %(reasons)s::text[])"
        "  AS m(id, state, stage, reason) WHERE f.id = m.id),"
        " steps AS (INSERT INTO fulfillment_step (fulfillment_id, state, stage, actor, note)"
        "  SELECT s.id, s.state, s.stage, %(actor)s, s.note FROM unnest(%(step_ids)s::uuid[],"
        "  %(step_states)s::text[], %(step_stages)s::text[], %(notes)s::text[]) WITH ORDINALITY"
        "  AS s(id, state, stage, note, n) ORDER BY s.n),"
        " added AS (INSERT INTO outbox (event_id, exchange, routing_key, correlation_id, body)"
        "  SELECT e.id, e.exchange, e.key, e.correlation, e.body FROM unnest(%(event_ids)s::uuid[],"
        "  %(exchanges)s::text[], %(keys)s::text[], %(correlations)s::text[], %(bodies)s::bytea[])"
        "  WITH ORDINALITY AS e(id, exchange, key, correlation, body, n) ORDER BY e.n)"
        " SELECT pg_notify(current_schema() || '_outbox', '')",
        {
            "ids": list(final),
            "states": [state for state, _, _ in final.values()],
            "stages": [stage for _, stage, _ in final.values()],
            "reasons": [reason for _, _, reason in final.values()],
            "actor": actor,
            "step_ids": [m.request.id for m in moves],
            "step_states": [m.to.value for m in moves],
            "step_stages": [m.stage for m in moves],
            "notes": [m.note for m in moves],
            "event_ids": [e.id for e in events],
            "exchanges": [e.exchange for e in events],
            "keys": [e.type for e in events],
            "correlations": [e.correlation_id for e in events],
            "bodies": [e.to_json() for e in events],
        },
    )
