"""Ranking of caller-ID candidates, against an in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime

from services.contacts.consumers import matching
from services.contacts.consumers.model import MatchKind, NoMatchReason, NumberHit


class FakeStore:
    def __init__(self, hits):
        self.hits = hits
        self.asked = []

    async def number_hits(self, *, number, limit):
        self.asked.append(number.e164)
        return self.hits[:limit]


class FakeHistory:
    """Each consumer's contacts, newest first; remembers what it was asked."""

    def __init__(self, contacts: dict[str, list[str]]):
        self.contacts = contacts
        self.asked: list[tuple[list[str], int]] = []

    async def recent_contacts(self, *, consumer_ids, limit):
        self.asked.append((list(consumer_ids), limit))
        return {cid: self.contacts[cid][:limit] for cid in consumer_ids if cid in self.contacts}


def hit(cid, kind, *, current=True, days_ago=None, name=None):
    last = datetime(2026, 11, 23, tzinfo=UTC).replace(day=23 - days_ago) if days_ago is not None else None
    return NumberHit(cid, kind, "+16145550123", current, name or cid, "en", last)


async def test_strength_first_then_numbers_in_use_then_latest_contact():
    store = FakeStore(
        [
            hit("suffix", MatchKind.SUFFIX, days_ago=0),
            hit("exact-old-contact", MatchKind.EXACT, days_ago=20),
            hit("exact-recent-contact", MatchKind.EXACT, days_ago=1),
            hit("exact-never-contacted", MatchKind.EXACT),
            hit("exact-former-number", MatchKind.EXACT, current=False, days_ago=0),
            hit("national", MatchKind.NATIONAL, days_ago=0),
        ]
    )
    result = await matching.match_caller(store=store, number="+1 614 555 0123", region="US")
    assert [c.consumer_id for c in result.candidates] == [
        "exact-recent-contact",
        "exact-old-contact",
        "exact-never-contacted",
        "exact-former-number",
        "national",
        "suffix",
    ]


async def test_a_consumer_found_several_ways_appears_once_with_its_strongest_match():
    store = FakeStore(
        [hit("same", MatchKind.SUFFIX), hit("same", MatchKind.EXACT), hit("same", MatchKind.NATIONAL)]
    )
    result = await matching.match_caller(store=store, number="+16145550123", region="US")
    assert [(c.consumer_id, c.kind) for c in result.candidates] == [("same", MatchKind.EXACT)]


async def test_recent_contacts_come_with_the_candidates_when_asked_up_to_the_limit():
    store = FakeStore([hit("a", MatchKind.EXACT, days_ago=1), hit("b", MatchKind.EXACT, days_ago=2)])
    history = FakeHistory({"a": ["a1", "a2", "a3", "a4"], "b": ["b1"]})
    result = await matching.match_caller(
        store=store, history=history, number="+16145550123", region="US", recent_contacts=3
    )
    assert history.asked == [(["a", "b"], 3)]
    assert [(c.consumer_id, c.recent_contacts) for c in result.candidates] == [
        ("a", ["a1", "a2", "a3"]),
        ("b", ["b1"]),
    ]
    await matching.match_caller(
        store=store, history=history, number="+16145550123", region="US", recent_contacts=500
    )
    assert history.asked[-1] == (["a", "b"], 20)  # a pop shows at most 20 past contacts per candidate
    await matching.match_caller(store=store, history=history, number="+16145550123", region="US")
    assert len(history.asked) == 2  # not asked for when not wanted


async def test_withheld_callers_never_reach_the_store():
    store = FakeStore([hit("a", MatchKind.EXACT)])
    for number, withheld in [
        ("+16145550123", True),
        ("anonymous", False),
        ("sip:anonymous@anonymous.invalid", False),
    ]:
        result = await matching.match_caller(store=store, number=number, region="US", withheld=withheld)
        assert (result.withheld, result.candidates, result.no_match_reason) == (
            True,
            [],
            NoMatchReason.WITHHELD,
        )
    assert store.asked == []


async def test_candidate_count_is_capped():
    store = FakeStore([hit(f"c{i}", MatchKind.EXACT) for i in range(80)])
    result = await matching.match_caller(store=store, number="+16145550123", region="US", max_candidates=500)
    assert len(result.candidates) == matching.MAX_CANDIDATES
