"""The restock half of the Fulfillment gRPC service: the open prompts, the thresholds, and the
where-to-buy misses counted as lookups are answered. Protobuf in, restock rules, protobuf out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from crs.fulfillment.v1 import fulfillment_pb2 as pb

from services.fulfillment import convert, restock, restock_thresholds
from services.fulfillment import restock_thresholds_store as thresholds_store
from services.fulfillment.replies import NotAllowed
from services.fulfillment.reply_api import _principal, _status
from services.fulfillment.restock_store import SqlStore
from services.fulfillment.restock_thresholds_store import ThresholdStore
from services.fulfillment.where_to_buy import Answer

log = logging.getLogger(__name__)
POLICY_SETTERS = ("supervisor", "admin", "service")


def ranked(prompts: list[restock.Prompt]) -> list[restock.Prompt]:
    """The shortest cover first (a region selling nothing last), then the most misses."""
    return sorted(
        prompts,
        key=lambda p: (
            p.days_of_cover is None,
            p.days_of_cover or 0.0,
            -p.misses,
            p.sku,
            p.country,
            p.region,
        ),
    )


def _may_set_thresholds(context):
    principal = _principal(context)
    if principal.role not in POLICY_SETTERS:
        raise NotAllowed("restock thresholds are set by a supply planner (supervisor) or an admin")
    return principal


class RestockApi:
    """Mixed into the Fulfillment servicer."""

    restock_store: SqlStore
    thresholds_store: ThresholdStore

    @_status
    async def ListRestockPrompts(self, request, context):
        prompts = await self.restock_store.open_prompts(sku=request.sku[:64], region=request.region[:100])
        return pb.ListRestockPromptsResponse(
            prompts=[convert.restock_prompt_to_pb(p) for p in ranked(prompts)]
        )

    async def _policy_reply(self):
        return convert.restock_policy_to_pb(
            *await self.restock_store.policy_row(),
            overrides=await self.thresholds_store.overrides(),
            changes=await self.thresholds_store.changes(),
        )

    async def _reevaluate(self) -> None:
        # The planner sees the new thresholds' effect at once, not at the next round; evaluating here as
        # well is safe, as every prompt's write is conditional on its state.
        try:
            await restock.evaluate(self.restock_store, datetime.now(UTC))
        except Exception:
            log.exception("restock prompts not re-evaluated after the thresholds changed; next round")

    @_status
    async def GetRestockPolicy(self, request, context):
        return await self._policy_reply()

    @_status
    async def SetRestockPolicy(self, request, context):
        principal = _may_set_thresholds(context)
        current = await self.restock_store.policy()
        # A field left at 0 keeps its current value: a planner may change one threshold alone.
        policy = restock.validate_policy(
            restock.Policy(
                cover_days=request.cover_days or current.cover_days,
                window_days=request.window_days or current.window_days,
                baseline_windows=request.baseline_windows or current.baseline_windows,
                miss_factor=request.miss_factor or current.miss_factor,
                min_misses=request.min_misses or current.min_misses,
            )
        )
        await self.restock_store.set_policy(policy, principal.username)
        await self._reevaluate()
        return await self._policy_reply()

    @_status
    async def SetCoverThreshold(self, request, context):
        principal = _may_set_thresholds(context)
        threshold = restock_thresholds.validate(
            restock_thresholds.CoverThreshold(
                *restock_thresholds.normalised(request.sku, request.country, request.region),
                request.cover_days,
            )
        )
        await self.thresholds_store.set(threshold, principal.username)
        await self._reevaluate()
        return await self._policy_reply()

    @_status
    async def RemoveCoverThreshold(self, request, context):
        principal = _may_set_thresholds(context)
        scope = restock_thresholds.validate_scope(request.sku, request.country, request.region)
        await self.thresholds_store.remove(scope, principal.username)
        await self._reevaluate()
        return await self._policy_reply()

    @_status
    async def SetReorderPoint(self, request, context):
        principal = _may_set_thresholds(context)
        sku, location_id, point = restock_thresholds.validate_reorder_point(
            request.sku, request.location_id, request.reorder_point
        )
        await thresholds_store.set_reorder_point(
            self.restock_store.pool, sku, location_id, point, principal.username
        )
        return convert.stock_to_pb(sku, await self.replies_store.stock(sku))

    async def count_where_to_buy(self, answer: Answer) -> None:
        """A lookup with no stocked store near the consumer is a miss for the product in their region.
        The consumer's answer matters more than the count: a miss that cannot be written is logged."""
        nearest = answer.stores[0].distance_km if answer.stores else None
        if not restock.is_miss(nearest):
            return
        try:
            await self.restock_store.record_miss(
                sku=answer.query.sku,
                country=answer.query.country,
                latitude=answer.latitude,
                longitude=answer.longitude,
                at=datetime.now(UTC),
            )
        except Exception:
            log.exception("a where-to-buy miss for %s could not be counted", answer.query.sku)
