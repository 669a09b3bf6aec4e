"""Approval limits as data an admin edits: per role, and per agent overriding their role, in one
currency: the value one fulfillment may have, and the total one consumer may be granted in a period,
without a supervisor. Plain Python: no SQL, no protobuf."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from services.fulfillment.replies import CouponPolicy, InvalidRequest

SCOPES = ("role", "agent")
ROLES = ("agent", "supervisor", "admin")
MAX_MINOR = 10**9
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Limit:
    scope: str  # role or agent
    name: str  # the role's name, or the agent's username
    currency: str
    max_value_minor: int
    max_period_minor: int
    period_days: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.scope, self.name, self.currency)

    def values(self) -> dict:
        return {
            "max_value_minor": self.max_value_minor,
            "max_period_minor": self.max_period_minor,
            "period_days": self.period_days,
        }


@dataclass(frozen=True)
class LimitChange:
    key: tuple[str, str, str]
    changed_by: str
    changed_at: datetime
    before: dict | None
    after: dict | None


def validate_key(scope: str, name: str, currency: str) -> tuple[str, str, str]:
    scope, name, currency = scope.strip(), name.strip().lower(), currency.strip().upper()
    if scope not in SCOPES:
        raise InvalidRequest("scope: role or agent")
    if scope == "role" and name not in ROLES:
        raise InvalidRequest(f"name: a role, one of {', '.join(ROLES)}")
    if scope == "agent" and not USERNAME.match(name):
        raise InvalidRequest("name: an agent's username (lower-case letters, digits, . _ -)")
    if not (len(currency) == 3 and currency.isalpha()):
        raise InvalidRequest("currency: a three-letter code")
    return scope, name, currency


def validate(limit: Limit) -> Limit:
    key = validate_key(limit.scope, limit.name, limit.currency)
    if not 0 <= limit.max_value_minor <= MAX_MINOR:
        raise InvalidRequest(f"max_value_minor: from 0 to {MAX_MINOR}")
    if not 0 <= limit.max_period_minor <= MAX_MINOR:
        raise InvalidRequest(f"max_period_minor: from 0 to {MAX_MINOR}")
    if limit.max_period_minor < limit.max_value_minor:
        raise InvalidRequest(
            "max_period_minor: at least max_value_minor (one fulfillment is within a period)"
        )
    if not 1 <= limit.period_days <= 366:
        raise InvalidRequest("period_days: from 1 to 366")
    return Limit(*key, limit.max_value_minor, limit.max_period_minor, limit.period_days)


COUPON_FIELDS = ("max_per_consumer", "max_per_household", "period_days", "valid_days")


def validate_coupon_policy(policy: CouponPolicy) -> CouponPolicy:
    """The coupon fraud limits: coupons per consumer and per household in a period, and how long one is good."""
    if not 1 <= policy.max_per_consumer <= 1000:
        raise InvalidRequest("max_per_consumer: from 1 to 1000")
    if not policy.max_per_consumer <= policy.max_per_household <= 1000:
        raise InvalidRequest(
            "max_per_household: from max_per_consumer (a household has one consumer or more) to 1000"
        )
    if not 1 <= policy.period_days <= 3660:
        raise InvalidRequest("period_days: from 1 to 3660")
    if not 1 <= policy.valid_days <= 3660:
        raise InvalidRequest("valid_days: from 1 to 3660")
    return policy
