"""The console's failed log-in records: kept as long as the policy says, and the sweep leaves a trace."""

from __future__ import annotations

from datetime import UTC, datetime

from services.console import retention

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


async def test_records_older_than_the_policy_go_and_the_sweep_says_so_in_the_log():
    cuts, notes = [], []

    async def days():
        return 90

    async def remove(before):
        cuts.append(before)
        return 4

    async def record(detail):
        notes.append(detail)

    assert await retention.sweep(policy_days=days, remove_before=remove, record=record, now=NOW) == 4
    assert cuts == [datetime(2026, 9, 2, 3, 0, tzinfo=UTC)]
    assert notes == ["removed 4 failed log-in records older than 90 days"]


async def test_a_policy_of_zero_days_keeps_them():
    async def days():
        return 0

    async def remove(before):
        raise AssertionError("nothing should be removed")

    assert await retention.sweep(policy_days=days, remove_before=remove, record=None, now=NOW) == 0
