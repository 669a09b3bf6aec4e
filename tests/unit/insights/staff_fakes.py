"""In-memory ports for staff mail: the StaffStore, and channels' notices as a mailbox."""

from __future__ import annotations

from services.insights.staff_mail import ChannelsDown, Owed
from tests.unit.insights.fakes import FakeStore


class FakeStaffStore:
    def __init__(self):
        self.people: dict = {}
        self.owed: dict = {}  # key -> [kind, payload, attempts, next_try_at, sent_at, note]
        self.weeks: set[str] = set()

    def owe(self, key, kind, payload):
        self.owed.setdefault(key, [kind, payload, 0, None, None, ""])

    async def stakeholders(self, role=""):
        found = [p for p in self.people.values() if not role or p.role == role]
        return sorted(found, key=lambda p: (p.role, p.name, p.email))

    async def put_stakeholder(self, person, actor, now):
        self.people[person.role, person.email] = person

    async def remove_stakeholder(self, role, email):
        return self.people.pop((role, email), None) is not None

    async def claim_week(self, week, lists, actor, now):
        if week in self.weeks:
            return False
        self.weeks.add(week)
        for name in lists:
            self.owe(f"digest:{week}:{name}", "digest", {"week": week, "list": name})
        return True

    async def owe_warning(self, event_id, warning):
        fresh = f"regulatory:{event_id}" not in self.owed
        self.owe(f"regulatory:{event_id}", "regulatory", {"event_id": event_id, "warning": warning})
        return fresh

    async def take_due(self, now, lease, limit):
        due = [k for k, row in self.owed.items() if row[4] is None and (row[3] is None or row[3] <= now)]
        taken = []
        for key in due[:limit]:
            row = self.owed[key]
            taken.append(Owed(key, row[0], row[1], row[2]))
            row[2], row[3] = row[2] + 1, now + lease
        return taken

    async def sent(self, key, recipients, note, now):
        self.owed[key][4], self.owed[key][5] = now, note

    async def retry(self, key, error, at):
        self.owed[key][3], self.owed[key][5] = at, error


class OwingStore(FakeStore):
    """The insights store owing an alert's email with the alert, as the SQL store does in one transaction."""

    def __init__(self, staff: FakeStaffStore):
        super().__init__()
        self.staff = staff

    async def save_alerts(self, changed, raised):
        await super().save_alerts(changed, raised)
        for a in raised:
            self.staff.owe(f"alert:{a.id}", "alert", {"alert_id": a.id})


class Mailbox:
    """Channels' notices: once per key, as channels keeps them; `down` makes every call fail."""

    def __init__(self):
        self.by_key: dict = {}
        self.down = False
        self.calls = 0

    async def send(self, mails):
        self.calls += 1
        if self.down:
            raise ChannelsDown("SendNotices: UNAVAILABLE")
        for m in mails:
            self.by_key.setdefault(m.key, m)
        return ["" for _ in mails]

    @property
    def mails(self):
        return list(self.by_key.values())
