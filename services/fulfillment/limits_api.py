"""The approval-limits half of the Fulfillment gRPC service: admins edit them, supervisors read them,
each change audited. Protobuf in, limits rules, protobuf out."""

from __future__ import annotations

import json

from crs.fulfillment.v1 import fulfillment_pb2 as pb

from services.fulfillment import convert, limits
from services.fulfillment.limits_store import LimitsStore
from services.fulfillment.replies import CouponPolicy, NotAllowed
from services.fulfillment.reply_api import _principal, _status

EDITORS = ("admin",)


def _json_or_empty(value) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True)


def _limit_pb(limit: limits.Limit) -> pb.ApprovalLimit:
    return pb.ApprovalLimit(
        scope=limit.scope,
        name=limit.name,
        currency=limit.currency,
        max_value_minor=limit.max_value_minor,
        max_period_minor=limit.max_period_minor,
        period_days=limit.period_days,
    )


def _change_pb(change: limits.LimitChange) -> pb.ApprovalLimitChange:
    scope, name, currency = change.key
    return pb.ApprovalLimitChange(
        scope=scope,
        name=name,
        currency=currency,
        changed_by=change.changed_by,
        changed_at=convert.timestamp(change.changed_at),
        before_json=_json_or_empty(change.before),
        after_json=_json_or_empty(change.after),
    )


def _editor(context):
    principal = _principal(context)
    if principal.role not in EDITORS:
        raise NotAllowed("approval limits are edited by an admin")
    return principal


class LimitsApi:
    """Mixed into the Fulfillment servicer."""

    limits_store: LimitsStore

    async def _reply(self) -> pb.ApprovalLimits:
        return pb.ApprovalLimits(
            limits=[_limit_pb(limit) for limit in await self.limits_store.all()],
            changes=[_change_pb(change) for change in await self.limits_store.changes()],
        )

    @_status
    async def ListApprovalLimits(self, request, context):
        return await self._reply()

    @_status
    async def SetApprovalLimit(self, request, context):
        principal = _editor(context)
        limit = limits.validate(
            limits.Limit(
                request.scope,
                request.name,
                request.currency,
                request.max_value_minor,
                request.max_period_minor,
                request.period_days,
            )
        )
        await self.limits_store.set(limit, principal.username)
        return await self._reply()

    @_status
    async def RemoveApprovalLimit(self, request, context):
        principal = _editor(context)
        key = limits.validate_key(request.scope, request.name, request.currency)
        await self.limits_store.remove(key, principal.username)
        return await self._reply()

    async def _coupon_reply(self) -> pb.CouponPolicy:
        policy, changes = await self.limits_store.coupon_policy()
        return pb.CouponPolicy(
            **{name: getattr(policy, name) for name in limits.COUPON_FIELDS},
            changes=[
                pb.CouponPolicyChange(
                    changed_by=by,
                    changed_at=convert.timestamp(at),
                    before_json=_json_or_empty(before),
                    after_json=_json_or_empty(after),
                )
                for by, at, before, after in changes
            ],
        )

    @_status
    async def GetCouponPolicy(self, request, context):
        return await self._coupon_reply()

    @_status
    async def SetCouponPolicy(self, request, context):
        principal = _editor(context)
        policy = limits.validate_coupon_policy(
            CouponPolicy(*(getattr(request, name) for name in limits.COUPON_FIELDS))
        )
        await self.limits_store.set_coupon_policy(policy, principal.username)
        return await self._coupon_reply()
