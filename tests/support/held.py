"""Holding a request in flight: a table lock makes every query on that table wait until it is released."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg


class HeldTable:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def waiting(self) -> int:
        """How many other sessions of this database are waiting on a lock now."""
        # The activity view is a snapshot kept for the whole transaction, which holds the lock: renew it.
        self.conn.execute("SELECT pg_stat_clear_snapshot()")
        (count,) = self.conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        ).fetchone()
        return count


@contextlib.contextmanager
def table_held(database_url: str, table: str) -> Iterator[HeldTable]:
    """An ACCESS EXCLUSIVE lock on `table` (schema-qualified) for the block; released when it ends."""
    with psycopg.connect(database_url) as conn:
        conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        try:
            yield HeldTable(conn)
        finally:
            conn.rollback()
