from datetime import UTC, datetime, time

import pytest

from services.outreach.campaigns import (
    NotAllowedNow,
    Progress,
    RateLimit,
    Recipient,
    Rules,
    decide,
    idempotency_key,
    next_state,
)

NOON = datetime(2026, 11, 12, 12, 0, tzinfo=UTC)


def who(**kw):
    base = dict(consumer_id="c1", email="ann@example.org", consented=frozenset({"marketing", "recall"}))
    return Recipient(**{**base, **kw})


def test_a_campaign_starts_only_after_a_test_send_and_pauses_only_while_running():
    with pytest.raises(NotAllowedNow, match="a draft campaign cannot start"):
        next_state("draft", "start")
    state = next_state(next_state("draft", "test"), "start")
    assert state == "running"
    assert next_state(next_state(state, "pause"), "resume") == "running"
    with pytest.raises(NotAllowedNow):
        next_state("paused", "pause")


def test_marketing_goes_to_the_consented_at_a_waking_hour():
    assert decide("marketing", who(), NOON).outcome == "send"
    assert decide("marketing", who(consented=frozenset({"service"})), NOON).outcome == "suppressed"
    assert decide("marketing", who(email=""), NOON).outcome == "suppressed"


def test_quiet_hours_defer_to_the_morning_in_the_consumers_own_zone():
    # Noon UTC is 23:00 in Sydney (summer time): deferred, not dropped, until 08:00 there.
    decision = decide("marketing", who(time_zone="Australia/Sydney"), NOON)
    assert decision.outcome == "deferred"
    assert decision.until.isoformat() == "2026-11-13T08:00:00+11:00"
    assert decide("marketing", who(time_zone="Europe/London"), NOON).outcome == "send"


def test_the_frequency_cap_defers_marketing_but_not_a_recall():
    capped = who(sent_in_window=3)
    assert decide("marketing", capped, NOON, Rules(cap=3)).outcome == "deferred"
    assert decide("recall", capped, NOON, Rules(cap=3)).outcome == "send"


def test_a_recall_notice_reaches_a_marketing_opt_out():
    opted_out = who(consented=frozenset({"service", "recall"}))
    assert decide("recall", opted_out, NOON).outcome == "send"
    assert decide("marketing", opted_out, NOON).outcome == "suppressed"


def test_quiet_hours_within_one_day():
    rules = Rules(quiet_start=time(12, 0), quiet_end=time(13, 0))
    assert decide("marketing", who(), NOON, rules).outcome == "deferred"


def test_progress_counts_deferred_as_remaining():
    p = Progress.of({"sent": 5, "deferred": 2, "suppressed": 1, "failed": 1, "pending": 3})
    assert (p.total, p.remaining, p.done) == (12, 5, False)
    assert Progress.of({"sent": 2, "suppressed": 1}).done


def test_the_rate_limit_grants_a_seconds_worth_then_waits():
    now = [0.0]
    limit = RateLimit(100, clock=lambda: now[0])
    assert limit.take(150)[0] == 100
    granted, wait = limit.take(10)
    assert granted == 0 and wait > 0
    now[0] += 0.5
    assert limit.take(80)[0] == 50


def test_the_idempotency_key_names_campaign_and_consumer():
    assert idempotency_key("k1", "c1") == "campaign:k1:c1"
