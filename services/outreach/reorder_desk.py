"""Reorder reminders as use cases: take an order, plan the cycle's reminder, and send what is due.

`due` is the durable timer: reminders live in `reorder_reminder` with their due time, and a sweep at the
injected clock's now sends each once (the row is marked sent before the message leaves through `send`, in
one step that only one sweeper wins). A restart loses nothing: what was due and unsent is still due.
`consents(consumer_id, purpose)` is the consent check; `send` hands the message to the channels service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from services.outreach import reorder
from services.outreach.reorder import Reminder


class ReorderDesk:
    def __init__(
        self,
        store,
        *,
        clock: Callable[[], datetime],
        consents: Callable[[str, str], Awaitable[bool]],
        send: Callable[[Reminder], Awaitable[None]],
    ):
        self.store, self.clock, self.consents, self.send = store, clock, consents, send

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
        """Send every reminder due by now that is still current and consented; each goes once."""
        now, sent = self.clock(), []
        for reminder in await self.store.due_reminders(now):
            times = await self.store.order_times(reminder.consumer_id, reminder.sku)
            if not reorder.still_due(reminder, times):
                await self.store.hold_back_reminder(reminder.key, "ordered again")
            elif not await self.consents(reminder.consumer_id, reorder.PURPOSE):
                await self.store.hold_back_reminder(reminder.key, "no marketing consent")
            elif await self.store.mark_reminder_sent(reminder.key, now):
                await self.send(reminder)
                sent.append(reminder)
        return sent
