"""An in-memory Store for the insights use cases."""

from __future__ import annotations

from dataclasses import replace

from services.insights.service import Received


class FakeStore:
    def __init__(self):
        self.events: list[Received] = []
        self.facts: dict = {}
        self.versions: dict = {}
        self.rows: dict = {}
        self.saved: dict = {}
        self.outbox: list[str] = []
        self.kept_recalls: dict = {}
        self.events_out: list = []
        self.worked: dict = {}
        self.work_versions: dict = {}
        self.rated: dict = {}
        self.purchases: dict = {}

    async def record(self, event, read):
        if any(e.event_id == event.event_id for e in self.events):
            return False
        self.events.append(event)
        if read.fact is not None:
            await self.put_contact(read.fact, read.version)
        await self.put_work(read)
        return True

    async def put_work(self, read):
        w, r = read.work, read.rating
        if w is not None and self.work_versions.get(w.case_id, -1) <= read.version:
            self.worked[w.case_id], self.work_versions[w.case_id] = w, read.version
        if r is not None:
            self.rated.setdefault(r.answer_id, r)

    async def works(self):
        return list(self.worked.values())

    async def ratings(self):
        return list(self.rated.values())

    async def replay(self):
        return list(self.events)

    async def clear_read_models(self):
        self.facts.clear()
        self.versions.clear()
        self.worked.clear()
        self.work_versions.clear()
        self.rated.clear()

    async def put_contact(self, fact, version):
        if self.versions.get(fact.contact_id, -1) <= version:
            self.facts[fact.contact_id], self.versions[fact.contact_id] = fact, version

    async def contacts(self):
        return list(self.facts.values())

    async def put_sales(self, rows, source, actor):
        for r in rows:
            self.rows[r.sku, r.lot_code, r.region, r.period_start, r.period_end] = r
        return len(rows)

    async def sales(self):
        return list(self.rows.values())

    async def alerts(self, since=None, status=""):
        return [
            a
            for a in self.saved.values()
            if (since is None or a.first_raised_at.date() >= since) and (not status or a.status == status)
        ]

    async def alert(self, alert_id):
        return self.saved.get(alert_id)

    async def save_alerts(self, changed, raised):
        for a in changed:
            kept = self.saved.get(a.id)
            self.saved[a.id] = a if kept is None else replace(kept, signal=a.signal)
        self.outbox += [a.id for a in raised]

    async def save_move(self, alert):
        self.saved[alert.id] = alert

    async def recalls(self, status=""):
        found = [r for r in self.kept_recalls.values() if not status or r.status == status]
        return sorted(found, key=lambda r: r.opened_at, reverse=True)

    async def recall(self, recall_id):
        return self.kept_recalls.get(recall_id)

    async def save_recall(self, recall, escalated=None):
        from services.insights import convert

        self.kept_recalls[recall.id] = recall
        if escalated is not None:
            self.saved[escalated.id] = escalated
        self.events_out.append(convert.recall_event(recall))

    async def put_purchases(self, purchases):
        fresh = [p for p in purchases if (p.order_id, p.sku) not in self.purchases]
        self.purchases.update({(p.order_id, p.sku): p for p in fresh})
        return len(fresh)

    async def buyers(self, sku, regions):
        return len(
            {
                p.consumer_id
                for p in self.purchases.values()
                if p.sku == sku and (not regions or p.region in regions)
            }
        )
