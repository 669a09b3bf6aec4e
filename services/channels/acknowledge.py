"""An acknowledgement with suggested articles, for a new email case that asks a question.

Only a question: knowledge's code model must read the mail as a `question.*` code (never a complaint or a
compliment), and knowledge's answer must not hand off: it hands off at once for anything that reads as
illness, injury, allergy or a foreign object, and when it is not confident. Then one reply goes out on the
case's thread (author `channels`), naming the case and the articles, and knowledge logs it as an automated
answer with the outcome `handed_off`: the case stays with an agent, who answers it as any other.

Plain Python: knowledge and the replies are ports (gRPC and the outbox in the service; fakes in tests).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from services.channels.intake import verbatim_of

log = logging.getLogger(__name__)

AUTHOR = "channels"  # the reply's author: no agent wrote it, so it is not the case's first response
MAX_ARTICLES = 3
EXCERPT = 300

_WORDING = {
    "en": (
        "Thank you for your message. We have received it as case {reference}, and one of our team will "
        "answer you.\n\nIn the meantime, these articles may already answer your question:",
        "You do not need to reply to this message; if an article answered your question, you may tell us.",
    ),
    "fr": (
        "Merci pour votre message. Nous l'avons bien reçu sous le dossier {reference}, et un membre de notre "
        "équipe vous répondra.\n\nEn attendant, ces articles répondent peut-être déjà à votre question :",
        "Vous n'avez pas besoin de répondre à ce message ; si un article a répondu à votre question, "
        "vous pouvez nous le dire.",
    ),
    "es": (
        "Gracias por su mensaje. Lo hemos recibido con el número de caso {reference}, y una persona de "
        "nuestro equipo le responderá.\n\nMientras tanto, estos artículos quizá ya respondan a su pregunta:",
        "No necesita responder a este mensaje; si un artículo respondió a su pregunta, puede decírnoslo.",
    ),
    "de": (
        "Vielen Dank für Ihre Nachricht. Wir haben sie als Fall {reference} erhalten, und jemand aus unserem "
        "Team wird Ihnen antworten.\n\nBis dahin beantworten diese Artikel Ihre Frage vielleicht schon:",
        "Sie müssen auf diese Nachricht nicht antworten; wenn ein Artikel Ihre Frage beantwortet hat, "
        "sagen Sie es uns gern.",
    ),
}


@dataclass(frozen=True)
class Suggested:
    title: str
    body: str
    score: float


@dataclass(frozen=True)
class Answer:
    log_id: int
    hand_off: bool
    reason: str
    articles: list[Suggested]


class Knowledge(Protocol):
    async def top_code(self, text: str, language: str) -> str: ...
    async def ask(self, question: str, *, language: str) -> Answer: ...
    async def record_outcome(self, log_id: int, outcome: str) -> None: ...


class Replies(Protocol):
    async def reply(self, case_id: str, *, body: str, subject: str, author: str): ...


def is_question(code: str) -> bool:
    return code == "question" or code.startswith("question.")


def chosen(articles: list[Suggested]) -> list[Suggested]:
    """The articles worth sending: the best, and those scoring at least half as well, at most three."""
    if not articles:
        return []
    best = max(a.score for a in articles)
    return [a for a in articles if a.score >= best / 2][:MAX_ARTICLES]


def excerpt(body: str) -> str:
    first = " ".join(body.strip().split("\n\n")[0].split())
    return first if len(first) <= EXCERPT else first[: EXCERPT - 1].rsplit(" ", 1)[0] + "…"


def acknowledgement(reference: int, language: str, articles: list[Suggested]) -> str:
    opening, closing = _WORDING.get(language, _WORDING["en"])
    listed = "\n\n".join(f"{n}. {a.title}\n{excerpt(a.body)}" for n, a in enumerate(articles, 1))
    return f"{opening.format(reference=reference)}\n\n{listed}\n\n{closing}"


class Acknowledger:
    def __init__(self, *, knowledge: Knowledge, replies: Replies):
        self.knowledge = knowledge
        self.replies = replies

    async def consider(self, *, case_id: str, reference: int, text: str, language: str) -> str:
        """Send the acknowledgement when the mail is a question knowledge can answer; what was done."""
        code = await self.knowledge.top_code(text, language)
        if not is_question(code):
            return f"not a question ({code or 'no code'})"
        answer = await self.knowledge.ask(text, language=language)
        if answer.hand_off:
            return f"handed off ({answer.reason})"
        articles = chosen(answer.articles)
        if not articles:
            await self.knowledge.record_outcome(answer.log_id, "handed_off")
            return "no article to suggest"
        body = acknowledgement(reference, language, articles)
        await self.replies.reply(case_id, body=body, subject="", author=AUTHOR)
        await self.knowledge.record_outcome(answer.log_id, "handed_off")
        return f"acknowledged with {len(articles)} article(s)"


class InBackground:
    """Each new email case considered for an acknowledgement in the background: the ingress never waits
    for knowledge, and knowledge away only means no acknowledgement."""

    def __init__(self, acknowledger: Acknowledger | None):
        self.acknowledger = acknowledger
        self.running: set[asyncio.Task] = set()

    def __call__(self, outcome, parsed, language: str) -> None:
        if self.acknowledger is None:
            return
        task = asyncio.create_task(self._consider(outcome, parsed, language))
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def _consider(self, outcome, parsed, language: str) -> None:
        try:
            done = await self.acknowledger.consider(
                case_id=outcome.case_id,
                reference=outcome.reference,
                text=verbatim_of(parsed),
                language=language,
            )
        except Exception as exc:
            log.warning("case %s: no acknowledgement (%s)", outcome.reference, exc)
            return
        log.info("case %s: %s", outcome.reference, done, extra={"fields": {"case_id": outcome.case_id}})

    async def drain(self, grace: float = 5.0) -> None:
        """Let acknowledgements under way finish for `grace` seconds; those still waiting are dropped
        (an acknowledgement is a courtesy: the case itself is already stored)."""
        if not self.running:
            return
        _, late = await asyncio.wait(set(self.running), timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
