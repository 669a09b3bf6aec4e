"""The public web form: consumers write in from the company's site; each submission becomes a case.

Before they send it, the articles that may answer their question are suggested; a consumer who says one
did is a deflection, counted once, and sends nothing. Safety wording (illness, injury, allergy, a foreign
object) is never answered by an article: knowledge hands it off, and the form is always sent.

Plain Python: casework, knowledge, the rate-limit buckets and the record of suggestions are ports.
The form is validated here for its own fields; the case's rules are casework's, which refuses a case as a
whole, so a refused form leaves no row behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)

TOPICS = {
    "question": "A question",
    "complaint": "A problem with a product",
    "compliment": "A compliment",
    "suggestion": "A suggestion",
}
MAX_FORM = 64 * 1024
# The form's fields, and where each goes on the case.
REPORTER_FIELDS = {"name": "name", "email": "email", "phone": "phone"}
PRODUCT_FIELDS = {
    "product": "name",
    "sku": "sku",
    "lot_code": "lot_code",
    "best_by": "best_by",
    "store": "purchase_store",
    "location": "purchase_location",
    "purchased_on": "purchased_on",
}
# `answer_id`: the suggestions the consumer was shown before sending (see WebForm.submit).
FORM_FIELDS = {*REPORTER_FIELDS, *PRODUCT_FIELDS, "topic", "message", "language", "website", "answer_id"}
# A question shorter than this has too few words to find an article by.
MIN_QUESTION = 12
MAX_ANSWER_ID = 2**63 - 1
MAX_QUESTION = 2000


class InvalidForm(ValueError):
    """What the consumer must change; the message names the field."""


@dataclass(frozen=True)
class WebCase:
    """A form as the case it becomes: the message is the consumer's verbatim, kept exactly."""

    topic: str
    message: str
    language: str
    reporter: dict[str, str]
    product: dict[str, str]


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    body: str
    language: str
    score: float
    other_language: bool = False


@dataclass(frozen=True)
class Suggestions:
    """What knowledge answered a question with. `answer_id` names its automated answer in knowledge's log;
    `safety` is set when the question reads as illness, injury, allergy or a foreign object."""

    answer_id: int = 0
    articles: tuple[Article, ...] = ()
    safety: bool = False


@dataclass(frozen=True)
class Submitted:
    reference: int


@dataclass(frozen=True)
class Limited:
    wait_seconds: float


class Cases(Protocol):
    async def open_web_case(self, case: WebCase) -> int:
        """The new case's reference; InvalidForm when casework refuses the case."""


class Answers(Protocol):
    async def ask(self, question: str, *, language: str) -> Suggestions: ...

    async def outcome(self, answer_id: int, outcome: str) -> None:
        """Log how an automated answer ended: resolved, handed_off or reopened."""


class Limiter(Protocol):
    async def take(self, client: str) -> float:
        """0 when the client may go on; otherwise the seconds to wait."""


class Offers(Protocol):
    """The suggestions shown on this form, so that only those can be marked as having answered someone."""

    async def offered(self, suggestions: Suggestions, *, language: str) -> None: ...

    async def deflected(self, answer_id: int, article_id: str) -> str:
        """COUNTED the first time; AGAIN when this answer was counted already; UNKNOWN when this article
        was not suggested under this answer on this form."""

    async def submitted(self, answer_id: int) -> str:
        """The outcome to log for the answer shown before the form was sent: HANDED_OFF, REOPENED (the
        consumer had said it answered them, and wrote in anyway), or "" (nothing to log)."""


COUNTED, AGAIN, UNKNOWN = "counted", "again", "unknown"
HANDED_OFF, REOPENED = "handed_off", "reopened"


def _text(form: dict, key: str) -> str:
    return form.get(key, "").strip()


def to_case(form: dict) -> WebCase:
    unknown = set(form) - FORM_FIELDS
    if unknown:
        raise InvalidForm(f"{sorted(unknown)[0][:40]}: not a field of this form")
    for key, value in form.items():
        if not isinstance(value, str):
            raise InvalidForm(f"{key}: must be text")
    if form.get("topic", "") not in TOPICS:
        raise InvalidForm(f"topic: choose one of {', '.join(TOPICS)}")
    message = form.get("message", "")
    if len(message.strip()) < 5:
        raise InvalidForm("message: tell us in a few words what happened")
    if not _text(form, "email") and not _text(form, "phone"):
        raise InvalidForm("email: give an email address or a phone number so that we can answer you")
    if not _text(form, "name"):
        raise InvalidForm("name: tell us your name")
    return WebCase(
        topic=form["topic"],
        message=message,
        language=form.get("language") or "en",
        reporter={to: _text(form, name) for name, to in REPORTER_FIELDS.items() if _text(form, name)},
        product={to: form[name] for name, to in PRODUCT_FIELDS.items() if form.get(name)},
    )


def answer_id_of(value) -> int:
    """An automated answer's id as posted, or 0 when it cannot be one (knowledge's ids are bigints)."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ANSWER_ID:
        return 0
    return value


@dataclass
class WebForm:
    cases: Cases
    answers: Answers
    offers: Offers
    # One bucket per client for sending forms, another for asking for suggestions (a few a second as the
    # consumer types: knowledge's CPU is what that budget protects).
    forms: Limiter
    questions: Limiter
    on_deflected: list = field(default_factory=list)

    async def submit(self, form: dict, *, client: str) -> Submitted | Limited:
        """A case from the form; InvalidForm with what to change. A form with the hidden field filled is
        a bot's: it is answered as sent (reference 0) and kept nowhere, so it learns nothing."""
        wait = await self.forms.take(client)
        if wait:
            return Limited(wait)
        if form.get("website"):
            return Submitted(0)
        case = to_case(form)
        reference = await self.cases.open_web_case(case)
        answer_id = answer_id_of(form.get("answer_id", ""))
        if answer_id:
            await self._sent_after(answer_id)
        return Submitted(reference)

    async def _sent_after(self, answer_id: int) -> None:
        """The consumer saw suggestions and wrote in all the same: a person answers them. The case is made
        already, so a failure here is logged and the consumer still gets their reference."""
        try:
            outcome = await self.offers.submitted(answer_id)
            if outcome:
                await self.answers.outcome(answer_id, outcome)
        except Exception:
            log.exception("the outcome of automated answer %s was not recorded", answer_id)

    async def suggest(self, question: str, *, language: str, client: str) -> Suggestions | Limited:
        """Articles that may answer the question; none for safety wording or a question too short."""
        question = question.strip()[:MAX_QUESTION]
        if len(question) < MIN_QUESTION:
            return Suggestions()
        wait = await self.questions.take(client)
        if wait:
            return Limited(wait)
        suggestions = await self.answers.ask(question, language=language)
        if suggestions.safety or not suggestions.articles:
            return Suggestions(safety=suggestions.safety)
        await self.offers.offered(suggestions, language=language)
        return suggestions

    async def answered(self, answer_id: int, article_id: str, *, client: str) -> str | Limited:
        """The consumer says this suggested article answered them: a deflection, counted once."""
        wait = await self.questions.take(client)
        if wait:
            return Limited(wait)
        result = await self.offers.deflected(answer_id, article_id)
        if result == COUNTED:
            await self.answers.outcome(answer_id, "resolved")
            for listener in self.on_deflected:
                listener()
        return result
