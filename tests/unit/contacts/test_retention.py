"""Retention policies applied by the sweep at the clock's now: what is older than the policy goes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.contacts.privacy.retention import InvalidPolicy, Policy, Retention

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


class Store:
    def __init__(self):
        self.days = {"recordings": 0, "unidentified_callers": 0, "closed_case_personal_data": 0}
        self.recordings = {
            "c-old": ("2026/10/01/old.wav", NOW - timedelta(days=31)),
            "c-young": ("2026/11/25/young.wav", NOW - timedelta(days=6)),
        }
        self.sweeps = []

    async def policies(self):
        return [Policy(kind, days) for kind, days in self.days.items()]

    async def put_policy(self, policy):
        self.days[policy.kind] = policy.days
        return policy

    async def expired_recordings(self, before, limit):
        return [(contact, key) for contact, (key, at) in self.recordings.items() if at < before][:limit]

    async def forget_recordings(self, contact_ids):
        for contact in contact_ids:
            self.recordings.pop(contact)
        return len(contact_ids)

    async def remove_unidentified_callers(self, before, limit):
        return 0

    async def anonymise_closed_cases(self, before, limit):
        return 0

    async def record_sweep(self, record):
        self.sweeps.append(record)


async def test_a_recording_older_than_the_policy_goes_and_a_younger_one_stays():
    store, deleted = Store(), []

    async def delete(keys, sweep_id):
        deleted.extend(keys)
        return len(keys)

    retention = Retention(store=store, delete_recordings=delete, clock=lambda: NOW)
    await retention.put(kind="recordings", days=30, by="root")
    record = await retention.sweep()

    assert deleted == ["2026/10/01/old.wav"]
    assert list(store.recordings) == ["c-young"]
    assert dict(record.removed) == {"recordings": 1, "recording_files_deleted": 1} and record.ran_at == NOW
    assert store.sweeps == [record]


async def test_a_policy_of_zero_days_keeps_everything():
    store = Store()

    async def delete(keys, sweep_id):
        raise AssertionError("nothing should be deleted")

    record = await Retention(store=store, delete_recordings=delete, clock=lambda: NOW).sweep()
    assert dict(record.removed) == {} and len(store.recordings) == 2


async def test_an_unknown_kind_or_a_negative_period_is_refused():
    retention = Retention(store=Store(), delete_recordings=None, clock=lambda: NOW)
    with pytest.raises(InvalidPolicy, match="kind"):
        await retention.put(kind="everything", days=3, by="root")
    with pytest.raises(InvalidPolicy, match="days"):
        await retention.put(kind="recordings", days=-1, by="root")
