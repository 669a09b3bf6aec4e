"""An in-memory Store for the insights use cases."""

from __future__ import annotations

from dataclasses import replace

from services.insights.domain import aggregates, voice
from services.insights.service import Received


def behind_of(facts, tokens):
    """The contacts of each span, as the SQL store's `contacts_behind` finds them."""
    found = {}
    for token in tokens:
        s = aggregates.Span.of(token)
        found[token] = [
            (f.contact_id, f.received_on)
            for f in facts
            if (f.sku, f.lot_code, f.region, f.issue_code) == (s.sku, s.lot_code, s.region, s.issue_code)
            and s.first <= f.received_on <= s.last
        ]
    return found


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
        self.cells: dict = {}

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
        self.cells.clear()
        self.worked.clear()
        self.work_versions.clear()
        self.rated.clear()

    async def put_contact(self, fact, version):
        if self.versions.get(fact.contact_id, -1) <= version:
            aggregates.apply(self.cells, aggregates.moves(self.facts.get(fact.contact_id), fact))
            self.facts[fact.contact_id], self.versions[fact.contact_id] = fact, version

    async def detector_cells(self, split):
        return aggregates.roll_up(self.cells.values(), split)

    async def contacts_behind(self, tokens):
        return behind_of(self.facts.values(), tokens)

    async def volume_counts(self, query):
        return voice.count_volumes(self.cells.values(), query)

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


class FakeThemeStore:
    """Verbatims and theme runs in memory, joined to facts given as the `contact` read model would."""

    def __init__(self, facts: dict | None = None):
        self.facts = facts if facts is not None else {}  # contact_id -> (sku, issue_code, received_on)
        self.kept: dict = {}  # contact_id -> (version, language, text, anonymised)
        self.runs: dict = {}

    async def put_verbatim(self, contact_id, version, language, text):
        before = self.kept.get(contact_id)
        if before is None or (before[0] <= version and not before[3]):
            self.kept[contact_id] = (version, language, text, False)

    async def anonymise(self, contact_ids, at):
        for contact_id in contact_ids:
            self.kept[contact_id] = (0, "", "", True)
        self.runs.clear()
        return len(contact_ids)

    def _held(self):
        from services.insights.domain.themes import Verbatim

        for contact_id, (_, language, text, gone) in self.kept.items():
            if not gone and text and contact_id in self.facts:
                sku, issue_code, received_on = self.facts[contact_id]
                yield Verbatim(contact_id, sku, issue_code, received_on, language, text)

    async def verbatims(self, scope, limit):
        def inside(v):
            prefix = scope.issue_prefix
            return (
                scope.start <= v.received_on <= scope.end
                and (not scope.sku or v.sku == scope.sku)
                and (not prefix or v.issue_code == prefix or v.issue_code.startswith(prefix + "."))
            )

        return sorted((v for v in self._held() if inside(v)), key=lambda v: v.received_on, reverse=True)[
            :limit
        ]

    async def verbatims_of(self, contact_ids, limit):
        found = [v for v in self._held() if v.contact_id in set(contact_ids)]
        return found[:limit], len(found)

    async def save_run(self, run):
        self.runs = {k: r for k, r in self.runs.items() if r.scope.key != run.scope.key}
        self.runs[run.id] = run

    async def latest_run(self, scope_key):
        found = [r for r in self.runs.values() if r.scope.key == scope_key]
        return max(found, key=lambda r: r.computed_at) if found else None

    async def run(self, run_id):
        return self.runs.get(run_id)
