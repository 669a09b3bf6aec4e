"""The knowledge service's use cases: write and publish articles, search, answer or hand off, suggest codes.

Plain Python over a Store protocol; the gRPC layer and the SQL live elsewhere.
"""

from __future__ import annotations

import asyncio
import pickle
import threading
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from services.knowledge import articles, handoff
from services.knowledge.articles import Article, ArticleNotFound
from services.knowledge.search import Embedder, Hit, Index
from services.knowledge.suggest import CodeModel, Example, retrain
from services.knowledge.text import guess_language


class Store(Protocol):
    async def latest(self, article_id: str, language: str) -> Article | None: ...
    async def save(self, article: Article, *, new: bool) -> None: ...
    async def published(self) -> list[Article]: ...
    async def all_latest(self) -> list[Article]: ...
    async def vectors(self, model: str) -> dict[tuple[str, str, int], np.ndarray]: ...
    async def save_vectors(self, model: str, vectors: dict[tuple[str, str, int], np.ndarray]) -> None: ...
    async def threshold(self) -> float: ...
    async def set_threshold(self, value: float, actor: str) -> None: ...
    async def threshold_change(self) -> tuple[str, str]: ...
    async def outcome_counts(self, days: int) -> list[OutcomeCount]: ...
    async def log_answer(self, entry: AnswerLog) -> int: ...
    async def set_outcome(self, log_id: int, outcome: str) -> bool: ...
    async def current_model(self) -> tuple[int, bytes] | None: ...
    async def next_model_version(self) -> int: ...
    async def save_model(
        self, version: int, examples: list[Example], top1: float, top3: float, promoted: bool, model: bytes
    ) -> None: ...


@dataclass(frozen=True)
class AnswerLog:
    question: str
    language: str
    article_id: str
    article_language: str
    score: float
    outcome: str
    handoff_reason: str
    channel: str


@dataclass(frozen=True)
class OutcomeCount:
    channel: str
    outcome: str
    handoff_reason: str
    count: int


@dataclass(frozen=True)
class AnswerReport:
    counts: list[OutcomeCount]
    threshold: float
    changed_by: str
    changed_at: str
    days: int


@dataclass(frozen=True)
class Answer:
    hits: list[Hit]
    answer: str
    hand_off: bool
    reason: str
    confidence: float
    language: str
    other_language: bool
    log_id: int = 0

    @property
    def escalate(self) -> bool:
        """Illness, injury, allergy or a foreign object: an agent at once, and the case escalated."""
        return self.reason == handoff.SAFETY


OUTCOMES = ("resolved", "reopened", "handed_off")
MAX_REPORT_DAYS = 366


@dataclass
class Knowledge:
    store: Store
    embedder: Embedder | None
    index: Index = field(init=False)
    codes: CodeModel | None = None
    vectors: dict = field(default_factory=dict)

    async def load(self) -> None:
        if self.embedder is not None:
            self.vectors.update(await self.store.vectors(self.embedder.name))
        await self.reindex()
        saved = await self.store.current_model()
        if saved is not None:
            self.codes = pickle.loads(saved[1]).attach(self.embedder)
            self.codes.suggest("warm-up")  # the first real request should not pay for lazy set-up

    async def reindex(self) -> None:
        known = set(self.vectors)
        # Encoding new articles is CPU work outside the GIL: other calls are served meanwhile.
        self.index = await asyncio.to_thread(
            Index, await self.store.published(), self.embedder, cache=self.vectors
        )
        if self.embedder is not None:
            added = {key: self.vectors[key] for key in self.vectors.keys() - known}
            await self.store.save_vectors(self.embedder.name, added)

    async def put(self, draft: Article, *, actor: str, role: str, publish: bool = False) -> Article:
        previous = await self.store.latest(draft.id, draft.language)
        article = articles.new_version(previous, draft, actor=actor, role=role, publish=publish)
        await self.store.save(article, new=previous is None)
        if publish:
            await self.reindex()
        return article

    async def _existing(self, article_id: str, language: str) -> Article:
        found = await self.store.latest(article_id, language)
        if found is None:
            raise ArticleNotFound(f"no article {article_id!r} in {language!r}")
        return found

    async def review(self, article_id: str, language: str, *, actor: str, role: str) -> Article:
        article = articles.review(await self._existing(article_id, language), actor=actor, role=role)
        await self.store.save(article, new=False)
        return article

    async def publish(self, article_id: str, language: str, *, role: str) -> Article:
        article = articles.publish(await self._existing(article_id, language), role=role)
        await self.store.save(article, new=False)
        await self.reindex()
        return article

    def search(
        self, query: str, *, language: str = "", product_sku: str = "", limit: int = 5
    ) -> tuple[list[Hit], str]:
        language = language or guess_language(query)
        return self.index.search(query, language=language, product_sku=product_sku, limit=limit), language

    async def ask(self, question: str, *, language: str = "", channel: str = "api") -> Answer:
        # The encoding is CPU work outside the GIL: off the event loop, other calls keep being served.
        hits, language = await asyncio.to_thread(self.search, question, language=language, limit=3)
        top = hits[0] if hits else None
        confidence = (top.similarity if self.embedder is not None else top.score) if top else 0.0
        decision = handoff.decide(question, confidence=confidence, threshold=await self.store.threshold())
        answer = Answer(
            hits=hits,
            answer="" if decision.hand_off or top is None else top.article.body,
            hand_off=decision.hand_off or top is None,
            reason=decision.reason or ("" if top else handoff.LOW_CONFIDENCE),
            confidence=round(confidence, 4),
            language=language,
            other_language=bool(top and top.other_language and not decision.hand_off),
        )
        log_id = await self.store.log_answer(
            AnswerLog(
                question=question,
                language=language,
                article_id=top.article.id if top else "",
                article_language=top.article.language if top else "",
                score=answer.confidence,
                outcome="handed_off" if answer.hand_off else "answered",
                handoff_reason=answer.reason,
                channel=channel,
            )
        )
        return replace(answer, log_id=log_id)

    async def record_outcome(self, log_id: int, outcome: str) -> None:
        if outcome not in OUTCOMES:
            raise articles.InvalidArticle(f"outcome must be one of {', '.join(OUTCOMES)}")
        if not await self.store.set_outcome(log_id, outcome):
            raise ArticleNotFound(f"no automated answer {log_id}")

    async def answer_report(self, days: int = 0) -> AnswerReport:
        """How the automated answers of the last `days` (30 when 0) ended, with the threshold now in force."""
        if not 0 <= days <= MAX_REPORT_DAYS:
            raise articles.InvalidArticle(f"days is between 1 and {MAX_REPORT_DAYS}")
        days = days or 30
        changed_by, changed_at = await self.store.threshold_change()
        return AnswerReport(
            counts=await self.store.outcome_counts(days),
            threshold=await self.store.threshold(),
            changed_by=changed_by,
            changed_at=changed_at,
            days=days,
        )

    async def set_threshold(self, value: float, *, actor: str, role: str) -> float:
        if role != "admin":
            raise articles.NotAllowed("only an admin changes the answer threshold")
        if not 0.0 <= value <= 1.0:
            raise articles.InvalidArticle("the threshold is between 0 and 1")
        await self.store.set_threshold(value, actor)
        return value

    def suggest_codes(self, verbatim: str, limit: int = 3) -> list[tuple[str, float]]:
        if self.codes is None or not verbatim.strip():
            return []
        return self.codes.suggest(verbatim, limit=limit)

    async def train_codes(
        self, training: list[Example], held_out: list[Example], *, with_embeddings: bool = True
    ) -> tuple[int, bool]:
        """Train the next version; it serves only when it beats the current one on `held_out`."""
        version = await self.store.next_model_version()
        candidate = await in_daemon_thread(
            retrain,
            training,
            held_out,
            current=self.codes,
            version=version,
            embedder=self.embedder if with_embeddings else None,
        )
        await self.store.save_model(
            version,
            training,
            candidate.scores.top1,
            candidate.scores.top3,
            candidate.promoted,
            pickle.dumps(candidate.model),
        )
        if candidate.promoted:
            self.codes = candidate.model
        return version, candidate.promoted


async def in_daemon_thread(function, *args, **kwargs):
    """`function(*args, **kwargs)` in a thread of its own that the process does not wait for at exit.

    For a training: it saves nothing until it ends, so a stop may leave it unfinished, and its fitting
    (seconds when idle, half a minute on a loaded machine) cannot be interrupted the way its encoding is.
    asyncio's default executor would hold the process open until the training ended."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def settle(result, error) -> None:
        if done.cancelled():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)

    def run() -> None:
        try:
            result, error = function(*args, **kwargs), None
        except BaseException as exc:  # handed to the awaiting task, which decides
            result, error = None, exc
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the loop has closed: nobody is waiting any more
            pass

    threading.Thread(target=run, name=f"knowledge-{function.__name__}", daemon=True).start()
    return await done
