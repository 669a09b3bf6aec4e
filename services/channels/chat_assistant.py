"""The assistant's turns in a chat: it answers from the knowledge base (chat_bot.py), lists stores after a
where-to-buy answer, hears the consumer's verdict, and hands the chat to an agent or to the queue."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from services.channels import chat_words
from services.channels.chat_bot import (
    ASKED_FOR_PERSON,
    BOT,
    LOW_CONFIDENCE,
    SAFETY,
    SAFETY_ESCALATION,
    UNANSWERED,
    NoPlace,
    Reply,
    offers_stores,
    postcode_in,
)
from services.channels.chat_shapes import Refused, line_json

if TYPE_CHECKING:
    from services.channels.chat import Chat, Desk

log = logging.getLogger(__name__)
# The agents' skill (console agents.skills) a safety matter is routed by.
SAFETY_SKILL = "product_safety"


class AssistantTurns:
    """The assistant's part of a chat, for ChatDesks (services/channels/chat.py): it reads the desks'
    ports (`answers`, `shops`, `store`, `cases`) and routing (`_pick`, `_routing`, `_turns`, `_to_agent`)."""

    async def _ask(self, question: str, language: str) -> Reply | None:
        try:
            return await self.answers.ask(question, language=language)
        except Exception as exc:
            log.warning("knowledge could not be asked; a person answers instead: %s", type(exc).__name__)
            return None

    async def _outcome(self, log_id: int, outcome: str) -> None:
        try:
            await self.answers.record(log_id, outcome)
        except Exception:
            log.exception("the outcome %s of automated answer %s was not recorded", outcome, log_id)

    async def _assistant_hears(self, chat: Chat, text: str) -> None:
        postcode = postcode_in(text) if chat.stores_for else None
        if postcode:
            await self._list_stores(chat, postcode)
            return
        if chat.resolved_log:
            await self._outcome(chat.resolved_log, "reopened")
            chat.resolved_log = 0
            await self.cases.reopened(chat.case_id, note="The consumer wrote again after the answer")
        reply = await self._ask(text, chat.language)
        if reply is None:
            await self._hand_off(chat, UNANSWERED)
            return
        if reply.hand_off and chat.answer_log:
            await self._outcome(chat.answer_log, "handed_off")
            chat.answer_log = 0
        await self._assistant_replies(chat, reply)

    async def _assistant_replies(self, chat: Chat, reply: Reply) -> None:
        if reply.source is not None:
            chat.skill = reply.source.kind
        if reply.hand_off:
            await self._hand_off(chat, reply.reason or LOW_CONFIDENCE)
            return
        chat.answer_log = reply.log_id
        chat.stores_for = offers_stores(reply) if self.shops is not None else ""
        text = chat_words.answer_text(reply, chat.language)
        if chat.stores_for:
            text += "\n\n" + chat_words.say(chat.language, "postcode")
        await self._assistant_line(chat, text, reply=reply)

    async def _list_stores(self, chat: Chat, postcode: str) -> None:
        try:
            shops = await self.shops.where_to_buy(chat.stores_for, postcode, language=chat.language)
        except NoPlace:
            text = chat_words.say(chat.language, "no_place", postcode=postcode)
        except Exception as exc:
            log.warning("fulfillment could not list stores for a chat: %s", type(exc).__name__)
            text = chat_words.say(chat.language, "stores_away")
        else:
            text = chat_words.stores_text(chat.language, postcode, shops)
        await self._assistant_line(chat, text)

    async def _assistant_line(self, chat: Chat, text: str, *, reply: Reply | None = None) -> None:
        line = await self.store.add_chat_line(
            chat=chat,
            author=BOT,
            body=text,
            inbound=False,
            from_address=BOT,
            to_address=chat.email or chat.name or "chat consumer",
        )
        chat.lines.append(line)
        shown = line_json(line) | {"author": "Assistant", "assistant": True}
        if reply is not None and reply.source is not None:
            shown["article"] = {"id": reply.source.id, "title": reply.source.title}
        await chat.consumer.send({"type": "line", "line": shown})
        await self._to_agent(chat, self._line_event(chat, line))

    async def consumer_wants_agent(self, chat: Chat) -> None:
        """The widget's "talk to a person" button."""
        self._live(chat)
        if chat.agent or chat.waiting:
            raise Refused("an agent is already on their way")
        if chat.answer_log:
            await self._outcome(chat.answer_log, "handed_off")
            chat.answer_log = 0
        await self._hand_off(chat, ASKED_FOR_PERSON)

    async def consumer_resolved(self, chat: Chat) -> None:
        """The widget's "that answers my question": the answer's outcome, and the case resolved."""
        self._live(chat)
        if chat.agent or chat.waiting or not chat.answer_log:
            raise Refused("there is no answer of the assistant to mark")
        chat.resolved_log, chat.answer_log = chat.answer_log, 0
        await self._outcome(chat.resolved_log, "resolved")
        await self.cases.resolved_by_assistant(chat.case_id, note="Resolved by the chat assistant's answer")
        await self._assistant_line(chat, chat_words.say(chat.language, "resolved"))

    async def _hand_off(self, chat: Chat, reason: str) -> None:
        """To the least busy agent who speaks the language, or to wait for one; a safety matter escalated."""
        chat.stores_for = ""
        if reason == SAFETY:
            chat.skill = SAFETY_SKILL
        if reason == SAFETY and not chat.escalated:
            chat.escalated = True
            try:
                await self.cases.escalate(chat.case_id, reason=SAFETY_ESCALATION)
            except Exception:
                log.exception(
                    "chat case %s was not escalated; it goes to an agent first all the same", chat.id
                )
        await self._assistant_line(chat, chat_words.say(chat.language, reason))
        async with self._routing:
            desk = self._pick(chat.language, chat.skill)
            if desk is not None:
                chat.agent, desk.opened = desk.username, next(self._turns)
            else:
                chat.waiting = next(self._turns)
        log.info("chat %s handed off (%s) to %s", chat.id, reason, desk.username if desk else "the queue")
        if desk is not None:
            await self._joined(chat, desk)
        else:
            await self._assistant_line(chat, chat_words.say(chat.language, "waiting"))
            await chat.consumer.send({"type": "waiting"})

    async def _serve_waiting(self) -> None:
        """Give waiting chats (escalated first, then the longest waiting) to agents with a free place."""
        while True:
            placed = None
            async with self._routing:
                queue = [c for c in self.chats.values() if c.waiting and not c.ended]
                for chat in sorted(queue, key=lambda c: (not c.escalated, c.waiting)):
                    desk = self._pick(chat.language, chat.skill)
                    if desk is not None:
                        chat.agent, chat.waiting, desk.opened = desk.username, 0, next(self._turns)
                        placed = (chat, desk)
                        break
            if placed is None:
                return
            await self._joined(*placed)

    async def _joined(self, chat: Chat, desk: Desk) -> None:
        await desk.sink.send(self._offer(chat))
        await chat.consumer.send({"type": "agent", "name": desk.display_name})
