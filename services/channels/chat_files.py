"""Files in a chat, both ways: the consumer's from the widget (chat_files_web.py, by the chat's token), the
agent's from the console's desk (SendChatFile). Each is screened by mail's allow-list of what the bytes
say (mail.sniffed_type), kept on the case's messages like a mail's attachment, and shown to both sides as
a line of the chat that links to it. A refused file is an error to its sender; the chat goes on.

Plain Python: the store is a port (chat_files_store.py; a fake in tests).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from services.channels import mail
from services.channels.chat_shapes import Line, Refused, line_json

if TYPE_CHECKING:
    from services.channels.chat import Chat, ChatDesks

# Under gRPC's 4 MiB message, as the agent's file crosses it to channels (a scanned letter's limit too).
MAX_CHAT_FILE_BYTES = 3 * 1024 * 1024
MAX_FILENAME = 200
_UNSAFE_NAME = re.compile(r'[\x00-\x1f"\\/]')


@dataclass(frozen=True)
class StoredFile:
    id: int
    case_id: str
    chat_id: str
    filename: str
    content_type: str
    content: bytes


class Store(Protocol):
    async def add_chat_file(
        self,
        *,
        chat: Chat,
        author: str,
        inbound: bool,
        from_address: str,
        to_address: str,
        filename: str,
        content_type: str,
        content: bytes,
    ) -> Line: ...
    async def attachment(self, attachment_id: int) -> StoredFile | None: ...


def screened(filename: object, content: bytes) -> tuple[str, str]:
    """(a safe file name, its type by its bytes); Refused with the reason the sender reads."""
    if not content:
        raise Refused("the file is empty")
    if len(content) > MAX_CHAT_FILE_BYTES:
        raise Refused(f"a file may be at most {MAX_CHAT_FILE_BYTES // 2**20} MiB")
    kind = mail.sniffed_type(content)
    if not kind:
        raise Refused("only pictures (JPEG, PNG, GIF) and PDF documents can be sent")
    name = _UNSAFE_NAME.sub("_", filename.strip() if isinstance(filename, str) else "")[:MAX_FILENAME]
    return name or "file", kind


class ChatFiles:
    def __init__(self, desks: ChatDesks, store: Store):
        self.desks = desks
        self.store = store

    def chat_of(self, token: object) -> Chat:
        """The open chat whose token the widget presents."""
        chat = None
        if isinstance(token, str) and token:
            chat = next(
                (c for c in self.desks.chats.values() if secrets.compare_digest(c.token, token)), None
            )
        if chat is None or chat.ended:
            raise Refused("this chat is not open")
        return chat

    async def from_consumer(self, token: object, filename: object, content: bytes) -> Line:
        chat = self.chat_of(token)
        name, kind = screened(filename, content)
        line = await self.store.add_chat_file(
            chat=chat,
            author="consumer",
            inbound=True,
            from_address=chat.email or chat.name or "chat consumer",
            to_address=chat.agent,
            filename=name,
            content_type=kind,
            content=content,
        )
        chat.lines.append(line)
        await chat.consumer.send({"type": "sent", "line": line_json(line)})
        if chat.agent or chat.waiting:
            await self.desks._to_agent(chat, self.desks._line_event(chat, line))
        return line

    async def from_agent(self, username: str, chat_id: str, filename: object, content: bytes) -> Line:
        chat = self.desks._theirs(username, chat_id)
        if chat.ended:
            raise Refused("this chat has ended")
        name, kind = screened(filename, content)
        line = await self.store.add_chat_file(
            chat=chat,
            author=username,
            inbound=False,
            from_address=username,
            to_address=chat.email or chat.name or "chat consumer",
            filename=name,
            content_type=kind,
            content=content,
        )
        chat.lines.append(line)
        await self.desks._to_agent(chat, self.desks._line_event(chat, line))
        desk = self.desks.desks.get(username)
        shown = desk.display_name if desk else username
        await chat.consumer.send({"type": "line", "line": line_json(line) | {"author": shown}})
        return line

    async def for_consumer(self, token: object, attachment_id: int) -> StoredFile:
        """A file of the consumer's own open chat; the same refusal for another chat's as for none."""
        chat = self.chat_of(token)
        found = await self.store.attachment(attachment_id)
        if found is None or found.chat_id != chat.id:
            raise Refused("no such file in this chat")
        return found

    async def for_case(self, case_id: str, attachment_id: int) -> StoredFile | None:
        found = await self.store.attachment(attachment_id)
        return found if found is not None and found.case_id == case_id else None
