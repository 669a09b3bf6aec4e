"""The sender loop: every running campaign gets rounds at its own rate limit, on injected clocks; a campaign
whose every recipient is settled finishes, and the loop stops at once when the process is told to."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from services.outreach.campaign_rounds import CampaignRounds
from services.outreach.campaigns import Campaign, NotAllowedNow, Progress
from services.outreach.campaigns_store import Claimed
from tests.unit.outreach.test_campaign_sender import FakeNotices, FakeStanding, Links

NOON = datetime(2026, 11, 12, 12, 0, tzinfo=UTC)


class FakeCampaigns:
    """Campaign rows as CampaignStore keeps them: a claim takes due rows of running campaigns only."""

    def __init__(self, campaigns: dict[str, tuple[Campaign, int, int]]):
        self.campaigns = {cid: c for cid, (c, _, _) in campaigns.items()}
        self.rates = {cid: rate for cid, (_, rate, _) in campaigns.items()}
        self.states = dict.fromkeys(campaigns, "running")
        self.rows = {cid: {f"{cid}-{i}": "pending" for i in range(n)} for cid, (_, _, n) in campaigns.items()}

    async def running(self):
        return [(self.campaigns[c], self.rates[c]) for c, s in self.states.items() if s == "running"]

    async def claim(self, campaign_id, now, limit):
        if self.states[campaign_id] != "running":
            return []
        due = [c for c, s in self.rows[campaign_id].items() if s == "pending"][:limit]
        self.rows[campaign_id].update(dict.fromkeys(due, "sending"))
        return [Claimed(c, f"{c}@example.org", "UTC", 1) for c in due]

    async def record(self, campaign_id, outcomes):
        self.rows[campaign_id].update({o.consumer_id: o.status for o in outcomes})

    async def progress(self, campaign_id):
        counts = {}
        for status in self.rows[campaign_id].values():
            counts[status] = counts.get(status, 0) + 1
        return Progress.of(
            {k: v for k, v in counts.items() if k != "pending"} | {"deferred": counts.get("pending", 0)}
        )

    async def move(self, campaign_id, move):
        if (self.states[campaign_id], move) != ("running", "finish"):
            raise NotAllowedNow(move)
        self.states[campaign_id] = "finished"


def rounds_over(campaigns: FakeCampaigns, seconds: list[float], notices: FakeNotices) -> CampaignRounds:
    """Rounds at noon, on a monotonic clock the test moves, with every recipient consented."""
    return CampaignRounds(
        campaigns,
        everyone_consents(campaigns),
        notices,
        Links(),
        clock=lambda: NOON,
        monotonic=lambda: seconds[0],
    )


def everyone_consents(campaigns: FakeCampaigns) -> FakeStanding:
    return FakeStanding(
        {c: frozenset({"marketing", "recall"}) for rows in campaigns.rows.values() for c in rows}
    )


async def test_each_running_campaign_goes_at_its_own_rate_and_every_recipient_gets_one_message():
    campaigns = FakeCampaigns(
        {
            "fast": (Campaign("fast", "marketing", "Offer", "Body"), 20, 50),
            "slow": (Campaign("slow", "recall", "Recall", "Body"), 5, 12),
        }
    )
    seconds = [0.0]
    notices = FakeNotices()
    rounds = rounds_over(campaigns, seconds, notices)
    wait = await rounds.tick()
    assert sorted(n.purpose for n in notices.sent).count("marketing") == 20
    assert sorted(n.purpose for n in notices.sent).count("recall") == 5
    assert 0 < wait <= 1.0
    for _ in range(10):  # the clock moves one second between ticks
        seconds[0] += 1.0
        await rounds.tick()
    keys = [n.idempotency_key for n in notices.sent]
    assert len(keys) == len(set(keys)) == 62
    assert campaigns.states == {"fast": "finished", "slow": "finished"}
    assert await rounds.tick() == rounds.idle  # nothing runs: the loop idles


async def test_a_paused_campaign_gets_no_rounds_until_it_is_resumed():
    campaigns = FakeCampaigns({"c": (Campaign("c", "marketing", "Offer", "Body"), 10, 30)})
    seconds = [0.0]
    notices = FakeNotices()
    rounds = rounds_over(campaigns, seconds, notices)
    await rounds.tick()
    campaigns.states["c"] = "paused"
    seconds[0] += 5
    await rounds.tick()
    assert len(notices.sent) == 10
    campaigns.states["c"] = "running"
    seconds[0] += 5
    await rounds.tick()
    assert len(notices.sent) == 20


async def test_the_loop_stops_at_once_when_told_and_a_failing_round_does_not_end_it():
    class FlakyCampaigns(FakeCampaigns):
        calls = 0
        asked = asyncio.Event()

        async def running(self):
            self.calls += 1
            self.asked.set()
            if self.calls == 1:
                raise ConnectionError("database away")
            return await super().running()

    campaigns = FlakyCampaigns({})
    stop = asyncio.Event()
    rounds = CampaignRounds(
        campaigns,
        FakeStanding({}),
        FakeNotices(),
        Links(),
        clock=lambda: NOON,
        monotonic=lambda: 0.0,
        idle=3600,
    )
    task = asyncio.create_task(rounds.run(stop))
    await asyncio.wait_for(campaigns.asked.wait(), 5)
    stop.set()
    await asyncio.wait_for(task, 5)  # an hour's idle wait ends when the process stops
    assert campaigns.calls == 1
