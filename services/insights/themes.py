"""Verbatims grouped by theme, as a use case: each case's verbatim kept redacted as it arrives, dropped when
contacts anonymises the case, and a scope's themes computed on demand and cached per scope.

Plain Python over a ThemeStore protocol and an Embedder port (the knowledge service's model over gRPC,
services/insights/knowledge_client.py); the clustering itself is domain/themes.py.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from services.insights.domain import redaction
from services.insights.domain import themes as clustering
from services.insights.domain.themes import Theme, Verbatim
from services.insights.service import CASE_EVENTS, Received, now

log = logging.getLogger(__name__)

ANONYMISED = "contacts_anonymised"
DEFAULT_WEEKS = 13
MAX_DAYS = 366
MAX_TEXT = 200
# A cached run is served for this long; a scope asked after it, or with refresh, is computed again.
MAX_AGE_SECONDS = 900.0
# Agglomerative clustering holds an n x n distance matrix: 2,000 verbatims is 32 MB and a few seconds of
# CPU. A larger scope is clustered on its most recent 2,000 (the run says how many it held).
MAX_VERBATIMS = 2000


class InvalidScope(ValueError):
    pass


class RunNotFound(LookupError):
    pass


class EmbedUnavailable(RuntimeError):
    """The knowledge service did not answer in time, or runs without a model."""


@dataclass(frozen=True)
class Scope:
    start: date
    end: date
    sku: str = ""
    issue_prefix: str = ""

    @classmethod
    def of(cls, *, start: date | None, end: date | None, sku: str, issue_prefix: str, today: date) -> Scope:
        end = end or today
        start = start or end - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1)
        if start > end:
            raise InvalidScope("start must not be after end")
        if (end - start).days >= MAX_DAYS:
            raise InvalidScope(f"a scope spans at most {MAX_DAYS} days")
        if len(sku) > MAX_TEXT or len(issue_prefix) > MAX_TEXT:
            raise InvalidScope(f"sku and issue_prefix: at most {MAX_TEXT} characters")
        return cls(start, end, sku.strip(), issue_prefix.strip().strip("."))

    @property
    def key(self) -> str:
        return f"{self.start}|{self.end}|{self.sku}|{self.issue_prefix}"


@dataclass(frozen=True)
class Run:
    id: str
    scope: Scope
    computed_at: datetime
    representation: str
    verbatims: int
    themes: tuple[Theme, ...]

    def theme(self, theme_id: str) -> Theme:
        for theme in self.themes:
            if theme.id == theme_id:
                return theme
        raise RunNotFound(f"run {self.id} has no theme {theme_id}")


class ThemeStore(Protocol):
    async def put_verbatim(self, contact_id: str, version: int, language: str, text: str) -> None: ...
    async def anonymise(self, contact_ids: list[str], at: datetime) -> int: ...
    async def verbatims(self, scope: Scope, limit: int) -> list[Verbatim]: ...
    async def verbatims_of(self, contact_ids: list[str], limit: int) -> tuple[list[Verbatim], int]: ...
    async def save_run(self, run: Run) -> None: ...
    async def latest_run(self, scope_key: str) -> Run | None: ...
    async def run(self, run_id: str) -> Run | None: ...


class Embedder(Protocol):
    async def embed(self, texts: list[str]) -> tuple[str, object]:
        """(the model's name, one unit vector per text); raises EmbedUnavailable."""
        ...


@dataclass
class ThemeFinder:
    store: ThemeStore
    embedder: Embedder | None = None
    clock: Callable[[], datetime] = now
    max_age_seconds: float = MAX_AGE_SECONDS

    async def take(self, event: Received) -> None:
        """A case event keeps its verbatim, redacted; contacts' anonymisation of cases drops theirs."""
        if event.source != "contacts":
            return
        if event.type == ANONYMISED:
            ids = [str(i) for i in event.data.get("contact_ids") or [] if i]
            if ids:
                dropped = await self.store.anonymise(ids, self.clock())
                log.info("dropped the verbatims of %d anonymised cases", dropped)
            return
        if event.type not in CASE_EVENTS:
            return
        case = event.data.get("case") or {}
        contact_id, text = case.get("id") or "", case.get("verbatim") or ""
        if not contact_id or not text.strip():
            return
        try:
            version = int(case.get("version") or 0)
        except ValueError:
            log.warning("ignoring the verbatim of event %s: its version is not a number", event.event_id)
            return
        redacted = redaction.redact(text, redaction.reporter_of(case))
        await self.store.put_verbatim(contact_id, version, (case.get("language") or "")[:35], redacted)

    async def themes(self, scope: Scope, refresh: bool = False) -> Run:
        """The scope's cached run while it is fresh, else a new one."""
        if not refresh:
            cached = await self.store.latest_run(scope.key)
            if cached is not None:
                age = (self.clock() - cached.computed_at).total_seconds()
                if 0 <= age <= self.max_age_seconds:
                    return cached
        return await self.compute(scope)

    async def compute(self, scope: Scope) -> Run:
        chosen = clustering.usable(await self.store.verbatims(scope, MAX_VERBATIMS))
        texts = [v.text for v in chosen]
        representation, vectors = "tfidf", None
        if chosen and self.embedder is not None:
            try:
                representation, vectors = await self.embedder.embed(texts)
            except EmbedUnavailable as exc:
                log.warning("themes fall back on TF-IDF: %s", exc)
        if vectors is None and chosen:
            representation = "tfidf"
            vectors = await asyncio.to_thread(clustering.represent, texts)
        # Clustering is CPU work, mostly in numpy and scikit-learn outside the GIL: the loop serves meanwhile.
        found = await asyncio.to_thread(clustering.group, chosen, vectors, scope.end)
        run = Run(str(uuid.uuid4()), scope, self.clock(), representation, len(chosen), tuple(found))
        await self.store.save_run(run)
        return run

    async def contacts(
        self, run_id: str, theme_id: str, limit: int = 200
    ) -> tuple[Theme, list[Verbatim], int]:
        """The contacts behind a theme whose verbatims are still held (an anonymised case's are not)."""
        run = await self.store.run(run_id)
        if run is None:
            raise RunNotFound(f"no themes run {run_id}: ask for the themes again")
        theme = run.theme(theme_id)
        found, total = await self.store.verbatims_of(list(theme.contact_ids), limit)
        return theme, found, total
