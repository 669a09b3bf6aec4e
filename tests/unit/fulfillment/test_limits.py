"""Approval limits an admin edits are checked before they are stored: a clear error for each field."""

from __future__ import annotations

import pytest

from services.fulfillment.limits import Limit, validate, validate_key
from services.fulfillment.replies import InvalidRequest


def test_a_limit_is_stored_with_its_name_and_currency_normalised():
    assert validate(Limit("agent", " Ada ", "usd", 1000, 5000, 30)).key == ("agent", "ada", "USD")


@pytest.mark.parametrize(
    ("limit", "complaint"),
    [
        (Limit("team", "ada", "USD", 1, 1, 1), "scope"),
        (Limit("role", "director", "USD", 1, 1, 1), "a role"),
        (Limit("agent", "ada smith", "USD", 1, 1, 1), "username"),
        (Limit("agent", "ada", "US", 1, 1, 1), "currency"),
        (Limit("agent", "ada", "USD", -1, 1, 1), "max_value_minor"),
        (Limit("agent", "ada", "USD", 1000, 999, 30), "max_period_minor"),
        (Limit("agent", "ada", "USD", 1, 1, 0), "period_days"),
        (Limit("agent", "ada", "USD", 1, 1, 400), "period_days"),
    ],
)
def test_a_limit_out_of_bounds_is_refused_naming_the_field(limit, complaint):
    with pytest.raises(InvalidRequest, match=complaint):
        validate(limit)


def test_removing_needs_a_whole_key():
    with pytest.raises(InvalidRequest, match="name"):
        validate_key("agent", "", "USD")
