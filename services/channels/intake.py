"""Inbound email to a case: keep the raw bytes, read them, refuse what no person wrote, thread the rest.

Threading, in this order (the first that finds a case wins):
1. Message-ID: In-Reply-To, then References, name a message already on a case;
2. the case reference in the subject ("[Case 1042]", "case #1042");
3. the same sender and subject within CRS_CHANNELS_THREAD_WINDOW_DAYS.
A message that threads lands on its case (reopened when it was resolved); any other becomes a new case.
Plain Python: the store, cases and consumers are ports (fakes in tests/unit/channels).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from services.channels import mail

log = logging.getLogger(__name__)

REFERENCE = re.compile(r"\[?\bcase\s*#?\s*(\d{1,12})\b\]?", re.IGNORECASE)
_PREFIXES = re.compile(r"^\s*((re|fwd?|aw|wg|sv|tr|rv)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


class Unfileable(ValueError):
    """Casework refused the case as given (a field it does not accept): delivering again will not help."""


@dataclass(frozen=True)
class Consumer:
    id: str
    name: str
    language: str


@dataclass(frozen=True)
class NewCase:
    id: str
    reference: int


@dataclass(frozen=True)
class Outcome:
    """What became of one message: `case_id` when it is on a case, else `rejected` names why."""

    raw_id: int
    case_id: str = ""
    reference: int = 0
    created: bool = False
    rejected: str = ""
    detail: str = ""


class Store(Protocol):
    async def keep_raw(self, raw: bytes, *, envelope_from: str, envelope_to: str) -> int: ...
    async def reject(self, raw_id: int, reason: str, detail: str) -> None: ...
    async def thread_of(self, message_ids: tuple[str, ...]) -> tuple[str, int] | None: ...
    async def case_with_reference(self, reference: int) -> tuple[str, int] | None: ...
    async def recent_thread(
        self, *, sender: str, subject: str, since: datetime
    ) -> tuple[str, int] | None: ...
    async def has_message(self, message_id: str) -> bool: ...
    async def bounced(self, message_id: str, *, detail: str) -> str | None:
        """Mark our outbound message `message_id` failed; its case id, or None when it is not ours."""

    async def add_inbound(
        self, *, raw_id: int, case_id: str, reference: int, parsed: mail.Parsed, language: str
    ) -> bool: ...


class Cases(Protocol):
    async def open_case(
        self, *, consumer: Consumer | None, parsed: mail.Parsed, language: str, verbatim: str
    ) -> NewCase: ...
    async def received(self, case_id: str, *, parsed: mail.Parsed) -> None: ...
    async def not_delivered(self, case_id: str, *, error: str) -> None: ...


class Consumers(Protocol):
    async def by_email(self, address: str) -> Consumer | None: ...


def case_reference(subject: str) -> int | None:
    found = REFERENCE.search(subject or "")
    return int(found.group(1)) if found else None


def bare_subject(subject: str) -> str:
    """The subject without Re:/Fwd: prefixes or case reference, lower-cased: what a thread keeps."""
    return " ".join(REFERENCE.sub("", _PREFIXES.sub("", subject or "")).split()).lower()


def verbatim_of(parsed: mail.Parsed) -> str:
    """The consumer's words as a case keeps them: the subject, then the body."""
    subject = parsed.subject.strip()
    return f"{subject}\n\n{parsed.body}".strip() if subject else parsed.body.strip()


class Intake:
    def __init__(
        self,
        *,
        store: Store,
        cases: Cases,
        consumers: Consumers,
        own_domain: str,
        window: timedelta,
        detect_language=lambda text: "",
        clock=None,
        on_new_case=None,
    ):
        self.store = store
        self.cases = cases
        self.consumers = consumers
        self.own_domain = own_domain
        self.window = window
        self.detect_language = detect_language
        self.clock = clock or (lambda: datetime.now().astimezone())
        # Told (outcome, parsed, language) of each new case, once its message is stored; must not block.
        self.on_new_case = on_new_case

    async def receive(self, raw: bytes, *, envelope_from: str = "", envelope_to: str = "") -> Outcome:
        """Keep `raw`, then put it on a case or reject it with a logged reason."""
        raw_id = await self.store.keep_raw(raw, envelope_from=envelope_from, envelope_to=envelope_to)
        try:
            return await self._read(raw_id, raw)
        except Unfileable as exc:
            return await self._reject(raw_id, "unfileable", str(exc)[:300], "")
        except Exception as exc:
            # Casework or the database went away mid-way: the ingress answers 451 and the MTA delivers the
            # message again; this copy is marked so that it is not taken for one still to be read.
            await self.store.reject(raw_id, "deferred", f"{type(exc).__name__}: {str(exc)[:300]}")
            raise

    async def _read(self, raw_id: int, raw: bytes) -> Outcome:
        parsed = mail.parse(raw, own_domain=self.own_domain)
        if isinstance(parsed, mail.Refused):
            return await self._reject(raw_id, parsed.reason, parsed.detail, parsed.message_id)
        if parsed.loop:
            return await self._reject(raw_id, "loop", "mail this centre sent came back", parsed.message_id)
        if parsed.automatic == "bounce" and parsed.bounced_message_id:
            await self._bounce_onto_case(parsed)
        if parsed.automatic:
            return await self._reject(raw_id, parsed.automatic, parsed.automatic_detail, parsed.message_id)
        if await self.store.has_message(parsed.message_id):
            return await self._reject(
                raw_id, "duplicate", "this Message-ID is already on a case", parsed.message_id
            )
        return await self._thread(raw_id, parsed)

    async def _bounce_onto_case(self, parsed: mail.Parsed) -> None:
        """A reply of ours bounced: the case says it was not delivered (the bounce itself opens nothing)."""
        detail = f"bounced: {parsed.subject or parsed.automatic_detail}"[:300]
        case_id = await self.store.bounced(parsed.bounced_message_id, detail=detail)
        if case_id is not None:
            await self.cases.not_delivered(case_id, error=detail)

    async def _reject(self, raw_id: int, reason: str, detail: str, message_id: str) -> Outcome:
        log.info(
            "inbound mail not made a case message: %s (%s)",
            reason,
            detail,
            extra={"fields": {"raw_id": raw_id, "reason": reason, "message_id": message_id}},
        )
        await self.store.reject(raw_id, reason, detail)
        return Outcome(raw_id, rejected=reason, detail=detail)

    async def find_thread(self, parsed: mail.Parsed) -> tuple[str, int] | None:
        named = tuple(
            dict.fromkeys(([parsed.in_reply_to] if parsed.in_reply_to else []) + list(parsed.references))
        )
        if named:
            found = await self.store.thread_of(named)
            if found:
                return found
        reference = case_reference(parsed.subject)
        if reference is not None:
            found = await self.store.case_with_reference(reference)
            if found:
                return found
        subject = bare_subject(parsed.subject)
        if subject:
            return await self.store.recent_thread(
                sender=parsed.sender, subject=subject, since=self.clock() - self.window
            )
        return None

    async def _thread(self, raw_id: int, parsed: mail.Parsed) -> Outcome:
        language = self.detect_language(parsed.body or parsed.subject)
        found = await self.find_thread(parsed)
        created = found is None
        if found is None:
            consumer = await self.consumers.by_email(parsed.sender)
            case = await self.cases.open_case(
                consumer=consumer, parsed=parsed, language=language, verbatim=verbatim_of(parsed)
            )
            found = case.id, case.reference
        case_id, reference = found
        if not await self.store.add_inbound(
            raw_id=raw_id, case_id=case_id, reference=reference, parsed=parsed, language=language
        ):
            # Another delivery of the same Message-ID won the race: this one is the duplicate.
            return await self._reject(
                raw_id, "duplicate", "this Message-ID is already on a case", parsed.message_id
            )
        if not created:
            await self.cases.received(case_id, parsed=parsed)
        outcome = Outcome(raw_id, case_id=case_id, reference=reference, created=created)
        if created and self.on_new_case is not None:
            self.on_new_case(outcome, parsed, language)
        log.info(
            "inbound mail on case %s (%s)",
            reference,
            "new case" if created else "threaded",
            extra={"fields": {"raw_id": raw_id, "case_id": case_id}},
        )
        return outcome
