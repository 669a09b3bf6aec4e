"""Reorder reminders as use cases: take an order, plan the cycle's reminder, and send what is due.

`due` is the durable timer: reminders live in `reorder_reminder` with their due time, and a sweep at the
injected clock's now sends each once (the row is marked sent before the message leaves through `send`, in
one step that only one sweeper wins). A restart loses nothing: what was due and unsent is still due.

A reminder is marketing, so it is decided by the campaigns' rule (`campaigns.decide`, the same `Rules`):
without marketing consent or an address it is held back; in the consumer's quiet hours it stays due and
goes at the first sweep after they end; over the frequency cap it is held back for this cycle (the next
order starts the next). `recipient(consumer_id, now)` is the consumer's standing as the campaign sender
sees it; `send` hands the message to the channels service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from services.outreach import reorder
from services.outreach.campaigns import DEFAULT_RULES, Recipient, Rules, decide
from services.outreach.reorder import Reminder

# Why a reminder waits rather than being held back: the night passes, the cap's window does not in time.
WAITS_OUT = "quiet hours"


class ReorderDesk:
    def __init__(
        self,
        store,
        *,
        clock: Callable[[], datetime],
        recipient: Callable[[str, datetime], Awaitable[Recipient]],
        send: Callable[[Reminder], Awaitable[None]],
        rules: Rules = DEFAULT_RULES,
    ):
        self.store, self.clock, self.recipient, self.send = store, clock, recipient, send
        self.rules = rules

    async def on_order(
        self, order_id: str, consumer_id: str, placed_at: datetime, skus: list[str]
    ) -> list[Reminder]:
        """Record the order's products and plan each product's next reminder; a replayed order plans nothing new."""
        planned = []
        for sku in dict.fromkeys(skus):
            await self.store.add_purchase(order_id, sku, consumer_id, placed_at)
            reminder = reorder.next_reminder(consumer_id, sku, await self.store.order_times(consumer_id, sku))
            if reminder is not None and await self.store.claim_reminder(reminder):
                planned.append(reminder)
        return planned

    async def due(self) -> list[Reminder]:
        """Send every reminder due by now that is still current and that the marketing rule lets go now;
        each goes once. One in quiet hours is due again when they end; one the rule refuses is held back with its reason."""
        now, sent = self.clock(), []
        for reminder in await self.store.due_reminders(now):
            times = await self.store.order_times(reminder.consumer_id, reminder.sku)
            if not reorder.still_due(reminder, times):
                await self.store.hold_back_reminder(reminder.key, "ordered again")
                continue
            decision = decide(
                reorder.PURPOSE, await self.recipient(reminder.consumer_id, now), now, self.rules
            )
            if decision.reason == WAITS_OUT:
                # Moved to when the night ends, so reminders waiting it out do not fill every sweep's batch.
                await self.store.defer_reminder(reminder.key, decision.until)
                continue
            if decision.outcome != "send":
                await self.store.hold_back_reminder(reminder.key, decision.reason)
            elif await self.store.mark_reminder_sent(reminder.key, now):
                await self.send(reminder)
                sent.append(reminder)
        return sent
