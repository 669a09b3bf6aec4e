"""The short form of `make faults`: under 5 calls/s and web forms, kill -9 contacts, kill -9 RabbitMQ and
restart PostgreSQL, on a cluster and a node of the test's own; nothing lost, nothing doubled, and the
stack serves again within the suite's recovery bound."""

from __future__ import annotations

import pytest

from tests.faults import suite

pytestmark = pytest.mark.sip


def test_under_load_three_faults_lose_and_double_nothing(capsys):
    outcomes = suite.run(suite.short_faults(), rate=5, seconds=12, form_rate=2)
    with capsys.disabled():
        print("\n" + suite.table(outcomes))
    assert [o.fault for o in outcomes] == [
        "kill -9 contacts",
        "kill -9 RabbitMQ",
        "restart PostgreSQL (fast)",
    ]
    for outcome in outcomes:
        # Each fault landed in a load that flowed: calls rang and ended, forms were accepted.
        assert outcome.calls >= 40, outcome
        assert outcome.forms >= 10, outcome
        assert (outcome.calls_lost, outcome.calls_doubled) == (0, 0), outcome
        assert (outcome.forms_lost, outcome.forms_doubled, outcome.forms_refused_but_stored) == (0, 0, 0), (
            outcome
        )
        assert outcome.recovered_seconds is not None and outcome.recovered_seconds <= suite.RECOVERY_BOUND, (
            outcome
        )
