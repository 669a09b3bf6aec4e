"""Failed log-in records leave the append-only access log under the retention policy; nothing else does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from services.console.accounts import Accounts
from services.runtime import db


async def test_old_failed_and_locked_log_ins_go_and_recent_ones_and_reads_of_consumers_stay(database_url):
    pool = await db.open_pool(database_url, schema="console", min_size=1, max_size=2)
    accounts = Accounts(pool)
    actor = f"who-{uuid.uuid4().hex[:8]}"
    try:
        for action in ("login.failed", "login.locked", "consumer.read", "login.failed"):
            await accounts.record_access(actor=actor, role="agent", action=action, address="203.0.113.7")
        # Three of the four happened ten days ago (as the database owner can say; the console cannot).
        with psycopg.connect(database_url, autocommit=True) as owner:
            owner.execute(
                "UPDATE console.access_log SET at = now() - interval '10 days' WHERE actor = %s AND id IN"
                " (SELECT id FROM console.access_log WHERE actor = %s ORDER BY id LIMIT 3)",
                (actor, actor),
            )
        assert await accounts.forget_failed_logins(datetime.now(UTC) - timedelta(days=30)) == 0
        assert await accounts.forget_failed_logins(datetime.now(UTC) + timedelta(days=1)) >= 2
        left = await accounts.access_log(actor=actor)
        assert sorted(entry["action"] for entry in left) == ["consumer.read", "login.failed"]
    finally:
        await pool.close()
