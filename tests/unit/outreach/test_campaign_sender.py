from datetime import UTC, datetime

from services.outreach.campaign_sender import Campaign, Sender
from services.outreach.campaigns import RateLimit
from services.outreach.campaigns_store import Claimed

NOON = datetime(2026, 11, 12, 12, 0, tzinfo=UTC)


class FakeClaims:
    def __init__(self, recipients):
        self.due = list(recipients)
        self.recorded = {}

    async def claim(self, campaign_id, now, limit):
        taken, self.due = self.due[:limit], self.due[limit:]
        return taken

    async def record(self, campaign_id, outcomes):
        self.recorded.update({o.consumer_id: o for o in outcomes})


class FakeStanding:
    def __init__(self, consented):
        self.consented = consented

    async def of(self, ids, now):
        return {i: (self.consented.get(i, frozenset()), 0) for i in ids}


class FakeNotices:
    def __init__(self, refuse=()):
        self.sent, self.refuse = [], set(refuse)

    async def send(self, notices):
        self.sent += notices
        return [n.to_address not in self.refuse for n in notices]


class Links:
    """One-click unsubscribe links, except for the consumers whose link cannot be made."""

    def __init__(self, missing=()):
        self.missing = set(missing)

    def link(self, consumer_id, purpose):
        return "" if consumer_id in self.missing else f"https://care.example/u/{consumer_id}/{purpose}"


def sender(claims, standing, notices, per_second=1000, links=None):
    return Sender(
        claims,
        standing,
        notices,
        unsubscribe=links or Links(),
        clock=lambda: NOON,
        limit=RateLimit(per_second, clock=lambda: 0.0),
    )


async def test_a_round_sends_to_the_consented_and_records_every_other_outcome():
    people = [
        Claimed("yes", "yes@example.org", "UTC", 1),
        Claimed("no", "no@example.org", "UTC", 1),
        Claimed("night", "night@example.org", "Australia/Sydney", 1),
        Claimed("bounce", "bounce@example.org", "UTC", 1),
    ]
    claims = FakeClaims(people)
    marketing = frozenset({"marketing"})
    standing = FakeStanding({"yes": marketing, "night": marketing, "bounce": marketing})
    notices = FakeNotices(refuse={"bounce@example.org"})
    settled, _ = await sender(claims, standing, notices).round(Campaign("k1", "marketing", "Hello", "Body"))
    assert settled == 4
    assert [n.to_address for n in notices.sent] == ["yes@example.org", "bounce@example.org"]
    assert notices.sent[0].idempotency_key == "campaign:k1:yes"
    assert notices.sent[0].list_unsubscribe == "https://care.example/u/yes/marketing"
    assert {k: o.status for k, o in claims.recorded.items()} == {
        "yes": "sent",
        "no": "suppressed",
        "night": "deferred",
        "bounce": "failed",
    }


async def test_a_round_takes_no_more_than_the_rate_limit_allows():
    claims = FakeClaims([Claimed(f"c{i}", f"c{i}@example.org", "UTC", 1) for i in range(30)])
    standing = FakeStanding({f"c{i}": frozenset({"recall"}) for i in range(30)})
    notices = FakeNotices()
    run = sender(claims, standing, notices, per_second=10)
    assert (await run.round(Campaign("k2", "recall", "Recall", "Body")))[0] == 10
    settled, wait = await run.round(Campaign("k2", "recall", "Recall", "Body"))
    assert settled == 0 and wait > 0
    assert len(notices.sent) == 10 and {n.purpose for n in notices.sent} == {"recall"}
    assert {n.list_unsubscribe for n in notices.sent} == {""}  # a safety notice offers no unsubscribe


async def test_marketing_whose_unsubscribe_link_cannot_be_made_is_never_sent():
    claims = FakeClaims([Claimed("a", "a@example.org", "UTC", 1), Claimed("b", "b@example.org", "UTC", 1)])
    standing = FakeStanding({"a": frozenset({"marketing"}), "b": frozenset({"marketing"})})
    notices = FakeNotices()
    await sender(claims, standing, notices, links=Links(missing={"b"})).round(
        Campaign("k4", "marketing", "s", "b")
    )
    assert [n.to_address for n in notices.sent] == ["a@example.org"]
    assert (claims.recorded["b"].status, claims.recorded["b"].reason) == (
        "suppressed",
        "no one-click unsubscribe link",
    )
