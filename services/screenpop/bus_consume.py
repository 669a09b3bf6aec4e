"""Telephony's call events in, pops out.

Idempotence: a ringing is claimed by its call id, so a re-published or retransmitted ringing pops once;
answered and ended only move or clear the extension's current pop, which is harmless to repeat.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

from crs.telephony.v1 import events_pb2
from prometheus_client import Counter, Histogram

from services.runtime.events import Event
from services.runtime.metrics import LATENCY_BUCKETS
from services.screenpop.compose import DEGRADED_REASONS, Budget, Deadlines, Sources, compose_pop
from services.screenpop.routing import PopRouter, valid_extension
from services.screenpop.store import Store

log = logging.getLogger(__name__)

RECENT_CALLS = 10_000

POPS = Counter("crs_screenpop_pops_total", "Pops published, by route", ["route"])
PARTIAL = Counter("crs_screenpop_partial_total", "Pops published without a source's answer", ["source"])
DEGRADED = Counter(
    "crs_screenpop_degraded_total",
    "Pops sent without parts there was no time to wait for, by reason",
    ["reason"],
)
for _reason in DEGRADED_REASONS:
    DEGRADED.labels(_reason)  # every reason exported from the start, at 0, so a rate can be taken
POP_LATENCY = Histogram(
    "crs_screenpop_invite_to_publish_seconds",
    "From the INVITE reaching telephony to the pop's publication",
    buckets=LATENCY_BUCKETS,
)
INVITE_TO_RECEIPT = Histogram(
    "crs_screenpop_invite_to_receipt_seconds",
    "From the INVITE reaching telephony to screenpop receiving its call_ringing: the bus's share",
    buckets=LATENCY_BUCKETS,
)
COMPOSE_SECONDS = Histogram(
    "crs_screenpop_compose_seconds", "Time to ask the sources and merge a pop", buckets=LATENCY_BUCKETS
)


class CallEvents:
    def __init__(
        self,
        *,
        store: Store,
        sources: Sources,
        router: PopRouter,
        deadlines: Deadlines,
        region: str,
        recent_contacts: int,
        budget: Budget,
    ):
        self.store = store
        self.sources = sources
        self.router = router
        self.deadlines = deadlines
        self.budget = budget
        self.region = region
        self.recent_contacts = recent_contacts
        self._recent: OrderedDict[str, None] = OrderedDict()

    def _seen_recently(self, call_id: str) -> bool:
        """Whether this replica already took this call; saves composing a duplicate, which the store refuses."""
        if call_id in self._recent:
            return True
        self._recent[call_id] = None
        if len(self._recent) > RECENT_CALLS:
            self._recent.popitem(last=False)
        return False

    async def on_ringing(self, event: Event) -> None:
        ringing = event.parse(events_pb2.CallRinging)
        # The ring's budget runs from the INVITE; from the event's publication when telephony gave no time.
        rang_at = event.time.timestamp()
        if ringing.HasField("invite_received_at"):
            rang_at = ringing.invite_received_at.ToMicroseconds() / 1e6
            INVITE_TO_RECEIPT.observe(max(0.0, time.time() - rang_at))
        if not ringing.call_id or not valid_extension(ringing.extension):
            log.warning(
                "ignoring a call_ringing without a call id or with an unusable extension: %s", event.id
            )
            return
        if self._seen_recently(ringing.call_id):
            log.info("duplicate call_ringing for a call already popped")
            return
        started = time.perf_counter()
        try:
            pop = await compose_pop(
                ringing=event.data,
                sources=self.sources,
                deadlines=self.deadlines,
                region=self.region,
                recent_contacts=self.recent_contacts,
                budget=self.budget,
                rang_at=rang_at,
            )
        except Exception:
            self._recent.pop(ringing.call_id, None)  # let the redelivered ringing try again
            raise
        COMPOSE_SECONDS.observe(time.perf_counter() - started)
        if not await self.store.claim_pop(extension=ringing.extension, call_id=ringing.call_id, pop=pop):
            log.info("call already popped elsewhere, or ended before its pop was ready; not popping it")
            return
        await self.router.publish(ringing.extension, pop)
        POPS.labels(pop["route"]).inc()
        for source in pop["partial"]:
            PARTIAL.labels(source).inc()
        if pop["degraded"]:
            DEGRADED.labels(pop["degraded"]).inc()
        if ringing.HasField("invite_received_at"):
            POP_LATENCY.observe(max(0.0, time.time() - rang_at))

    async def on_answered(self, event: Event) -> None:
        answered = event.parse(events_pb2.CallAnswered)
        if not valid_extension(answered.extension):
            return
        if await self.store.mark_answered(extension=answered.extension, call_id=answered.call_id):
            await self.router.publish(
                answered.extension,
                {
                    "type": "call_state",
                    "state": "answered",
                    "call_id": answered.call_id,
                    "extension": answered.extension,
                },
            )

    async def on_ended(self, event: Event) -> None:
        ended = event.parse(events_pb2.CallEnded)
        if not valid_extension(ended.extension):
            return
        await self.store.end_call(extension=ended.extension, call_id=ended.call_id)
        # Sent even when nothing was stored: a replica may still show a pop that raced the end.
        await self.router.publish(
            ended.extension, {"type": "clear", "call_id": ended.call_id, "extension": ended.extension}
        )
