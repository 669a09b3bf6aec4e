"""Chat: a consumer on the brand's site talks to an available agent; the transcript is the case's history.

An agent is available while their desk is open (the console holds channels' AgentChat stream for them), in
the languages the desk names, up to its capacity. A chat goes to the least busy such agent who speaks the
consumer's language (the one who waited longest, among equals). Each line is kept on the case as a message
of the channel "chat" before it is shown to the other side. With no agent free, the consumer may leave a
message instead: it goes through the email intake, so it becomes an email-channel case like any mail.

With an assistant (chat_bot.py), a chat starts with it instead: it answers from the knowledge base, and
hands the chat to an agent when knowledge says so or the consumer asks; a chat handed off when no agent
is free waits, escalated ones first, for the next free place. When knowledge cannot be reached, a chat
starts with an agent as it would without an assistant.

Plain Python: the store, casework, the consumer directory and the intake are ports (fakes in tests).
The desks and live chats are held by this process: chat runs as one replica of channels.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Protocol

from services.channels import chat_bot
from services.channels.chat_assistant import AssistantTurns
from services.channels.chat_shapes import (
    LANGUAGE,
    Line,
    Refused,
    Sink,
    checked_contact,
    checked_line,
    language_of,
    line_json,
)
from services.channels.intake import Consumer, NewCase, Outcome

__all__ = ["ChatDesks", "Line", "Refused", "Sink", "language_of"]

log = logging.getLogger(__name__)

MAX_CAPACITY = 8
# How long a chat whose page closed waits for a reload of it (its token) before it ends.
RESUME_SECONDS = 120.0


@dataclass
class Desk:
    username: str
    display_name: str
    languages: frozenset[str]
    capacity: int
    sink: Sink
    opened: int  # order of opening or last assignment: the longest waiting is served first
    skills: frozenset[str] = frozenset()


@dataclass
class Chat:
    id: str
    language: str
    name: str
    email: str
    consumer: Sink
    agent: str
    case_id: str = ""
    reference: int = 0
    lines: list[Line] = field(default_factory=list)
    answered: bool = False
    ended: bool = False
    # With the assistant: agent is "" until the chat is handed off; waiting once handed off with no place.
    waiting: int = 0  # the order it began waiting in; 0 when not waiting
    escalated: bool = False
    answer_log: int = 0  # knowledge's log of the assistant's last answer, until its outcome is known
    resolved_log: int = 0  # the answer the consumer said resolved it: reopened if they write again
    stores_for: str = ""  # the product whose nearest stores a postcode would list
    skill: str = ""  # what the chat is about, for routing: an agent skilled in it is preferred
    # The widget keeps this for its tab (sessionStorage): a reload presents it and the chat goes on.
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    away: asyncio.TimerHandle | None = None  # the consumer's socket closed: the chat ends when this fires


class _Away:
    """The consumer of a chat whose page is reloading: what is said meanwhile waits in the transcript."""

    async def send(self, event: dict[str, Any]) -> None:
        return None


class Store(Protocol):
    async def add_chat_line(
        self, *, chat: Chat, author: str, body: str, inbound: bool, from_address: str, to_address: str
    ) -> Line: ...


class Cases(Protocol):
    async def open_chat_case(
        self, *, consumer: Consumer | None, name: str, email: str, language: str, verbatim: str
    ) -> NewCase: ...
    async def chat_answered(self, case_id: str, *, author: str) -> None: ...
    async def escalate(self, case_id: str, *, reason: str) -> None: ...
    async def resolved_by_assistant(self, case_id: str, *, note: str) -> None: ...
    async def reopened(self, case_id: str, *, note: str) -> None: ...


class Consumers(Protocol):
    async def by_email(self, address: str) -> Consumer | None: ...


class MailIntake(Protocol):
    async def receive(self, raw: bytes, *, envelope_from: str = "", envelope_to: str = "") -> Outcome: ...


class ChatDesks(AssistantTurns):
    def __init__(
        self,
        *,
        store: Store,
        cases: Cases,
        consumers: Consumers,
        intake: MailIntake,
        centre_address: str,
        answers: chat_bot.Answers | None = None,
        shops: chat_bot.Shops | None = None,
        resume_seconds: float = RESUME_SECONDS,
        clock=None,
    ):
        self.store = store
        self.cases = cases
        self.consumers = consumers
        self.intake = intake
        self.centre_address = centre_address
        self.answers = answers
        self.shops = shops
        self.resume_seconds = resume_seconds
        self._leaving: set[asyncio.Task] = set()
        self.clock = clock or (lambda: datetime.now().astimezone())
        self.desks: dict[str, Desk] = {}
        self.chats: dict[str, Chat] = {}
        self._turns = itertools.count(1)
        # Routing and opening a case are one step, so that two chats never both take an agent's last place.
        self._routing = asyncio.Lock()

    # -- agents --

    async def open_desk(
        self,
        username: str,
        display_name: str,
        *,
        languages: list[str],
        capacity: int,
        sink: Sink,
        skills: list[str] = (),
    ) -> Desk:
        """The agent is available; a desk they had (a page reloaded) is replaced and their chats resent."""
        spoken = frozenset(language_of(x) for x in languages if LANGUAGE.match(language_of(x)))
        if not spoken:
            raise Refused("a desk needs at least one language")
        desk = Desk(
            username,
            display_name or username,
            spoken,
            max(1, min(capacity or 3, MAX_CAPACITY)),
            sink,
            next(self._turns),
            frozenset(s.strip().lower()[:40] for s in skills if s.strip()),
        )
        self.desks[username] = desk
        await sink.send({"kind": "ready", "detail": ",".join(sorted(spoken))})
        for chat in self._open_chats_of(username):
            await sink.send(self._offer(chat))
        await self._serve_waiting()
        return desk

    def close_desk(self, username: str, sink: Sink) -> None:
        """The agent is no longer available (their console socket closed); their chats stay theirs."""
        desk = self.desks.get(username)
        if desk is not None and desk.sink is sink:
            del self.desks[username]

    def _open_chats_of(self, username: str) -> list[Chat]:
        return [c for c in self.chats.values() if c.agent == username and not c.ended]

    def available(self, language: str) -> bool:
        """Someone can take a chat in this language: the assistant, or a free agent who speaks it."""
        return self.answers is not None or self._pick(language_of(language)) is not None

    def _pick(self, language: str, skill: str = "") -> Desk | None:
        """A free agent who speaks the language: one skilled in the chat's matter first, then the least
        busy, then the one who waited longest. With no one skilled free, anyone who speaks it."""
        free = [
            d
            for d in self.desks.values()
            if language in d.languages and len(self._open_chats_of(d.username)) < d.capacity
        ]

        def order(desk: Desk) -> tuple[bool, int, int]:
            unskilled = bool(skill) and skill not in desk.skills
            return unskilled, len(self._open_chats_of(desk.username)), desk.opened

        return min(free, key=order, default=None)

    # -- the consumer --

    async def start(self, *, name: Any, email: Any, language: str, first: Any, consumer: Sink) -> Chat | None:
        """A new chat on a new case, with the assistant or else with the agent it is routed to; None when
        neither can take it."""
        body = checked_line(first)
        name, email = checked_contact(name, email)
        language = language_of(language)
        reply = await self._ask(body, language) if self.answers is not None else None
        if reply is None:
            return await self._start_with_agent(name, email, language, body, consumer)
        chat = Chat(uuid.uuid4().hex, language, name, email, consumer, agent="")
        self.chats[chat.id] = chat
        await self._open_case(chat, body)
        log.info("chat %s started with the assistant on case %s", chat.id, chat.reference)
        await self._consumer_line(chat, body)
        await self._assistant_replies(chat, reply)
        return chat

    async def _start_with_agent(
        self, name: str, email: str, language: str, body: str, consumer: Sink
    ) -> Chat | None:
        async with self._routing:
            desk = self._pick(language)
            if desk is None:
                return None
            chat = Chat(uuid.uuid4().hex, language, name, email, consumer, desk.username)
            self.chats[chat.id] = chat
            desk.opened = next(self._turns)
        await self._open_case(chat, body)
        log.info("chat %s routed to %s on case %s", chat.id, desk.username, chat.reference)
        await self._consumer_line(chat, body)
        await desk.sink.send(self._offer(chat))
        return chat

    async def _open_case(self, chat: Chat, body: str) -> None:
        try:
            known = await self.consumers.by_email(chat.email) if chat.email else None
            case = await self.cases.open_chat_case(
                consumer=known, name=chat.name, email=chat.email, language=chat.language, verbatim=body
            )
        except Exception:
            del self.chats[chat.id]
            raise
        chat.case_id, chat.reference = case.id, case.reference

    async def consumer_says(self, chat: Chat, body: Any) -> Line:
        self._live(chat)
        text = checked_line(body)
        line = await self._consumer_line(chat, text)
        if chat.agent or chat.waiting:
            await self._to_agent(chat, self._line_event(chat, line))
        else:
            await self._assistant_hears(chat, text)
        return line

    async def _consumer_line(self, chat: Chat, body: str) -> Line:
        line = await self.store.add_chat_line(
            chat=chat,
            author="consumer",
            body=body,
            inbound=True,
            from_address=chat.email or chat.name or "chat consumer",
            to_address=chat.agent,
        )
        chat.lines.append(line)
        await chat.consumer.send({"type": "sent", "line": line_json(line)})
        return line

    async def consumer_typing(self, chat: Chat) -> None:
        self._live(chat)
        await self._to_agent(chat, {"kind": "typing", "chat_id": chat.id})

    async def consumer_saw(self, chat: Chat, line_id: Any) -> None:
        """The widget shows the agent's line: the agent's desk marks it delivered."""
        if isinstance(line_id, int) and any(x.id == line_id for x in chat.lines):
            await self._to_agent(chat, {"kind": "delivered", "chat_id": chat.id, "line_id": line_id})

    async def consumer_away(self, chat: Chat, sink: Sink) -> None:
        """The widget's socket closed: a reload within `resume_seconds` takes the chat up again."""
        if chat.ended or chat.consumer is not sink:
            return
        chat.consumer = _Away()

        def leave() -> None:
            task = asyncio.ensure_future(self.consumer_left(chat))
            self._leaving.add(task)
            task.add_done_callback(self._leaving.discard)

        chat.away = asyncio.get_running_loop().call_later(self.resume_seconds, leave)

    def resume(self, token: Any, consumer: Sink) -> Chat | None:
        """The chat whose token the reloaded widget presents, now talking to its new socket."""
        if not isinstance(token, str) or not token:
            return None
        chat = next(
            (c for c in self.chats.values() if secrets.compare_digest(c.token, token) and not c.ended), None
        )
        if chat is None:
            return None
        if chat.away is not None:
            chat.away.cancel()
            chat.away = None
        chat.consumer = consumer
        return chat

    def transcript(self, chat: Chat) -> list[dict[str, Any]]:
        """Every line so far, as the consumer's widget shows them."""
        shown = []
        for line in chat.lines:
            desk = self.desks.get(line.author)
            author = (
                "Assistant" if line.author == chat_bot.BOT else desk.display_name if desk else line.author
            )
            mine = line.author == "consumer"
            shown.append(
                line_json(line) | {"author": author, "mine": mine, "assistant": line.author == chat_bot.BOT}
            )
        return shown

    async def consumer_left(self, chat: Chat) -> None:
        if chat.ended:
            return
        chat.ended = True
        await self._to_agent(chat, {"kind": "ended", "chat_id": chat.id, "detail": "the consumer left"})
        self.chats.pop(chat.id, None)
        await self._serve_waiting()

    async def leave_message(self, *, name: Any, email: Any, language: str, body: Any) -> Outcome:
        """No agent was free: the message becomes mail to the centre, through the email intake."""
        text = checked_line(body)
        name, email = checked_contact(name, email)
        if not email:
            raise Refused("an email address is needed, so that the answer can reach you")
        raw = as_mail(
            name=name, email=email, language=language_of(language), body=text, to=self.centre_address
        )
        return await self.intake.receive(raw, envelope_from=email, envelope_to=self.centre_address)

    # -- the agent, at their desk --

    def _theirs(self, username: str, chat_id: str) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None or chat.agent != username:
            raise Refused("no such chat is open at your desk")
        return chat

    async def agent_says(self, username: str, chat_id: str, body: Any) -> Line:
        chat = self._theirs(username, chat_id)
        self._live(chat)
        text = checked_line(body)
        desk = self.desks.get(username)
        line = await self.store.add_chat_line(
            chat=chat,
            author=username,
            body=text,
            inbound=False,
            from_address=username,
            to_address=chat.email or chat.name or "chat consumer",
        )
        chat.lines.append(line)
        await self._to_agent(chat, self._line_event(chat, line))
        shown = desk.display_name if desk else username
        await chat.consumer.send({"type": "line", "line": line_json(line) | {"author": shown}})
        if not chat.answered:
            chat.answered = True
            await self.cases.chat_answered(chat.case_id, author=username)
        return line

    async def agent_typing(self, username: str, chat_id: str) -> None:
        chat = self._theirs(username, chat_id)
        await chat.consumer.send({"type": "typing"})

    async def agent_saw(self, username: str, chat_id: str, line_id: Any) -> None:
        chat = self._theirs(username, chat_id)
        if isinstance(line_id, int) and any(x.id == line_id for x in chat.lines):
            await chat.consumer.send({"type": "delivered", "line_id": line_id})

    async def agent_ends(self, username: str, chat_id: str) -> None:
        chat = self._theirs(username, chat_id)
        chat.ended = True
        self.chats.pop(chat.id, None)
        await chat.consumer.send({"type": "ended", "detail": "the agent ended the chat"})
        await self._to_agent(chat, {"kind": "ended", "chat_id": chat.id, "detail": "you ended the chat"})
        await self._serve_waiting()

    # -- shapes --

    @staticmethod
    def _live(chat: Chat) -> None:
        if chat.ended:
            raise Refused("this chat has ended")

    async def _to_agent(self, chat: Chat, event: dict[str, Any]) -> None:
        desk = self.desks.get(chat.agent)
        if desk is None:
            return  # their console is away; the chat is resent, transcript and all, when it returns
        try:
            await desk.sink.send(event)
        except Exception as exc:
            log.info("an agent's desk went away while a chat event was sent: %s", type(exc).__name__)

    @staticmethod
    def _line_event(chat: Chat, line: Line) -> dict[str, Any]:
        return {"kind": "line", "chat_id": chat.id, "lines": [line]}

    @staticmethod
    def _offer(chat: Chat) -> dict[str, Any]:
        return {
            "kind": "chat",
            "chat_id": chat.id,
            "case_id": chat.case_id,
            "case_reference": chat.reference,
            "consumer_name": chat.name,
            "consumer_email": chat.email,
            "language": chat.language,
            "lines": list(chat.lines),
            "detail": "escalated" if chat.escalated else "",
        }


def as_mail(*, name: str, email: str, language: str, body: str, to: str) -> bytes:
    """A message left on the chat widget, as the mail the intake reads (Content-Language names its tongue)."""
    message = EmailMessage()
    message["From"] = f"{name} <{email}>" if name else email
    message["To"] = to
    message["Subject"] = "Message left on the chat"
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = make_msgid(domain="chat.invalid")
    message["Content-Language"] = language
    message.set_content(body)
    return bytes(message)
