"""Verbatims grouped by theme: on the hand-labelled set the plastic pieces, the stale taste and the where-to-
buy questions come out as separate themes, labelled by their own words, counted by week; a case's verbatim
is kept redacted and goes when contacts anonymises the case; runs are cached per scope."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from services.insights.domain.themes import Verbatim, find_themes
from services.insights.service import Received
from services.insights.themes import EmbedUnavailable, InvalidScope, RunNotFound, Scope, ThemeFinder
from tests.unit.insights.fakes import FakeThemeStore
from tests.unit.insights.theme_cases import ENGLISH, LABELLED

TODAY = date(2026, 12, 3)


def _labels_of(theme, truth):
    return {truth[c] for c in theme.contact_ids}


def test_plastic_stale_and_where_to_buy_are_separate_themes_labelled_by_their_words():
    verbatims = [
        Verbatim(str(i), "OAT-500", "complaint", TODAY - timedelta(days=i), "en", text)
        for i, (_, text) in enumerate(ENGLISH)
    ]
    truth = {str(i): label for i, (label, _) in enumerate(ENGLISH)}
    found = find_themes(verbatims, TODAY)
    assert all(len(_labels_of(t, truth)) == 1 for t in found), "no theme mixes two subjects"
    by_subject = {}
    for theme in found:
        by_subject.setdefault(_labels_of(theme, truth).pop(), []).append(theme)
    assert set(by_subject) == {"plastic", "stale", "where"}
    assert "plastic" in by_subject["plastic"][0].terms
    assert "stale" in by_subject["stale"][0].terms
    assert {"buy", "store"} & set(by_subject["where"][0].terms)
    assert [t.id for t in found] == [str(n) for n in range(1, len(found) + 1)]
    assert [t.size for t in found] == sorted((t.size for t in found), reverse=True)


def test_a_themes_weeks_count_its_contacts_and_a_recent_burst_rises():
    old = [
        Verbatim(f"o{i}", "S", "c", TODAY - timedelta(weeks=10 + i), "en", ENGLISH[0][1]) for i in range(4)
    ]
    new = [Verbatim(f"n{i}", "S", "c", TODAY - timedelta(days=i), "en", ENGLISH[1][1]) for i in range(6)]
    (theme,) = find_themes(old + new, TODAY, max_themes=1)
    assert sum(n for _, n in theme.weeks) == theme.size == 10
    assert all(week.weekday() == 0 for week, _ in theme.weeks)
    assert theme.rise > 3


def _finder(store, embedder=None, moment=datetime(2026, 12, 3, 9, tzinfo=UTC)):
    return ThemeFinder(store, embedder, clock=lambda: moment)


def _case_event(contact_id, text, version=1, reporter=None, kind="contact_created"):
    case = {
        "id": contact_id,
        "version": version,
        "verbatim": text,
        "language": "en",
        "reporter": reporter or {},
    }
    return Received(f"e-{contact_id}-{version}-{kind}", "contacts", kind, datetime.now(UTC), {"case": case})


class ByLabel:
    """The knowledge model's part: a unit vector per subject, so the finder's own wiring is what is tested."""

    def __init__(self, truth):
        self.truth, self.calls = truth, 0

    def subject(self, kept: str) -> str:
        return next(label for text, label in self.truth.items() if text in kept)

    async def embed(self, texts):
        self.calls += 1
        axes = {"plastic": 0, "stale": 1, "where": 2}
        return "fake", np.eye(3)[[axes[self.subject(t)] for t in texts]]


async def test_the_finder_keeps_redacted_verbatims_and_groups_them_on_the_models_vectors():
    store = FakeThemeStore()
    truth = {}
    for i, (label, _, text) in enumerate(LABELLED):
        store.facts[str(i)] = ("OAT-500", "complaint.foreign_object", TODAY - timedelta(days=i % 20))
        truth[text] = label
    model = ByLabel(truth)
    finder = _finder(store, model)
    for i, (_, _, text) in enumerate(LABELLED):
        await finder.take(_case_event(str(i), text))
    await finder.take(_case_event("0", "Ada Quist, 0415 555 0101: plastic again", 0, {"name": "Ada Quist"}))
    assert store.kept["0"][2] == LABELLED[0][2], "an older version does not replace a newer one"
    await finder.take(
        _case_event("0", "Ada Quist, 0415 555 0101: " + LABELLED[0][2], 2, {"name": "Ada Quist"})
    )
    assert store.kept["0"][2] == "[name], [phone]: " + LABELLED[0][2]

    run = await finder.themes(Scope.of(start=None, end=None, sku="", issue_prefix="complaint", today=TODAY))
    assert run.representation == "fake" and run.verbatims == len(LABELLED)
    assert sorted(t.size for t in run.themes) == [9, 9, 9]
    theme, contacts, total = await finder.contacts(run.id, run.themes[0].id)
    assert theme == run.themes[0]
    assert total == len(contacts) == 9
    assert len({model.subject(c.text) for c in contacts}) == 1
    assert "[name], [phone]: " + LABELLED[0][2] in {c.text for c in contacts} | {
        c.text for t in run.themes[1:] for c in (await finder.contacts(run.id, t.id))[1]
    }


async def test_an_anonymised_case_loses_its_verbatim_for_good_and_the_cached_runs_go():
    store = FakeThemeStore({str(i): ("S", "complaint", TODAY) for i in range(6)})
    finder = _finder(store)
    for i, (_, text) in enumerate(ENGLISH[:6]):
        await finder.take(_case_event(str(i), text))
    run = await finder.themes(Scope.of(start=None, end=None, sku="S", issue_prefix="", today=TODAY))
    await finder.take(
        Received("x", "contacts", "contacts_anonymised", datetime.now(UTC), {"contact_ids": ["0", "1"]})
    )
    await finder.take(_case_event("0", ENGLISH[0][1], version=5, kind="contact_updated"))
    assert store.kept["0"][2] == "" and store.kept["1"][2] == ""
    with pytest.raises(RunNotFound):
        await finder.contacts(run.id, "1")
    again = await finder.themes(run.scope)
    assert again.verbatims == 4
    held = {c for t in again.themes for c in t.contact_ids}
    assert held == {"2", "3", "4", "5"}


async def test_a_scopes_run_is_served_from_the_cache_until_it_ages_or_is_refreshed():
    store = FakeThemeStore({str(i): ("S", "complaint", TODAY) for i in range(5)})
    truth = {text: label for label, text in ENGLISH}
    model = ByLabel(truth)
    moment = [datetime(2026, 12, 3, 9, tzinfo=UTC)]
    finder = ThemeFinder(store, model, clock=lambda: moment[0], max_age_seconds=60)
    for i, (_, text) in enumerate(ENGLISH[:5]):
        await finder.take(_case_event(str(i), text))
    scope = Scope.of(start=None, end=None, sku="", issue_prefix="", today=TODAY)
    first = await finder.themes(scope)
    assert (await finder.themes(scope)).id == first.id and model.calls == 1
    assert (await finder.themes(scope, refresh=True)).id != first.id
    moment[0] += timedelta(seconds=61)
    await finder.themes(scope)
    assert model.calls == 3


async def test_knowledge_unreachable_falls_back_on_insights_own_representation():
    class Down:
        async def embed(self, texts):
            raise EmbedUnavailable("UNAVAILABLE")

    store = FakeThemeStore({str(i): ("S", "complaint", TODAY) for i in range(len(ENGLISH))})
    finder = _finder(store, Down())
    for i, (_, text) in enumerate(ENGLISH):
        await finder.take(_case_event(str(i), text))
    run = await finder.themes(Scope.of(start=None, end=None, sku="", issue_prefix="", today=TODAY))
    assert run.representation == "tfidf" and len(run.themes) >= 3


def test_a_scope_is_checked():
    with pytest.raises(InvalidScope):
        Scope.of(start=TODAY, end=TODAY - timedelta(days=1), sku="", issue_prefix="", today=TODAY)
    with pytest.raises(InvalidScope):
        Scope.of(start=TODAY - timedelta(days=400), end=TODAY, sku="", issue_prefix="", today=TODAY)
    scope = Scope.of(start=None, end=None, sku=" S ", issue_prefix="complaint.", today=TODAY)
    assert (scope.start, scope.end, scope.sku, scope.issue_prefix) == (
        TODAY - timedelta(days=90),
        TODAY,
        "S",
        "complaint",
    )
