"""The IMAP client port over aioimaplib: log in, select the folder, list and fetch by UID, wait with IDLE."""

from __future__ import annotations

import asyncio
import re
import ssl

from aioimaplib import aioimaplib

from services.channels.imap import Mailbox

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_NEWS = re.compile(rb"^\d+ (EXISTS|RECENT)\b")


class ImapError(ConnectionError):
    pass


def _ok(response, what: str):
    if response.result != "OK":
        raise ImapError(f"{what}: {response.result} {response.lines[-1:]!r}")
    return response


class AioImapClient:
    def __init__(self, client: aioimaplib.IMAP4, lost: asyncio.Event, uid_validity: int):
        self.client = client
        self.lost = lost
        self.uid_validity = uid_validity

    async def uids_after(self, uid: int) -> list[int]:
        response = _ok(await self.client.uid_search(f"UID {uid + 1}:*", charset=None), "UID SEARCH")
        found: list[int] = []
        for line in response.lines[:-1]:
            found.extend(int(word) for word in bytes(line).split() if word.isdigit())
        return found

    async def fetch(self, uid: int) -> bytes | None:
        """The message's bytes, or None when it was expunged meanwhile."""
        response = _ok(await self.client.uid("fetch", str(uid), "(BODY.PEEK[])"), "UID FETCH")
        literals = [bytes(line) for line in response.lines if isinstance(line, bytearray)]
        return literals[0] if literals else None

    async def wait_for_news(self, timeout: float) -> None:
        if self.lost.is_set():
            raise ImapError("the connection was lost")
        # aioimaplib waits for IDLE's answer without a limit: a server gone at that moment would hang it.
        idle = await asyncio.wait_for(self.client.idle_start(timeout=timeout + 60), self.client.timeout)
        gone = asyncio.ensure_future(self.lost.wait())
        deadline = asyncio.get_running_loop().time() + timeout
        push = None
        try:
            while (left := deadline - asyncio.get_running_loop().time()) > 0:
                push = asyncio.ensure_future(self.client.wait_server_push(timeout=left))
                done, _ = await asyncio.wait({push, gone}, return_when=asyncio.FIRST_COMPLETED)
                if gone in done:
                    raise ImapError("the connection was lost during IDLE")
                if push.exception() is not None:  # nothing came before the deadline
                    break
                lines = push.result()
                if isinstance(lines, list) and any(_NEWS.match(bytes(line)) for line in lines):
                    break
        finally:
            gone.cancel()
            if push is not None and not push.done():
                push.cancel()
        self.client.idle_done()
        await asyncio.wait_for(idle, self.client.timeout)

    async def close(self) -> None:
        if not self.lost.is_set():
            await asyncio.wait_for(self.client.logout(), 5)


async def connect(mailbox: Mailbox, *, timeout: float = 20.0) -> AioImapClient:
    lost = asyncio.Event()
    client = aioimaplib.IMAP4(
        mailbox.host,
        mailbox.port,
        timeout=timeout,
        conn_lost_cb=lambda exc: lost.set(),
        ssl_context=ssl.create_default_context() if mailbox.tls else None,
    )
    try:
        await client.wait_hello_from_server()
        _ok(await client.login(mailbox.user, mailbox.password), "LOGIN")
        selected = _ok(await client.select(mailbox.folder), "SELECT")
    except BaseException:
        if client.protocol.transport is not None:
            client.protocol.transport.close()
        raise
    validity = next(
        (int(m.group(1)) for line in selected.lines if (m := _UIDVALIDITY.search(bytes(line)))), 0
    )
    if not validity:
        raise ImapError(f"SELECT {mailbox.folder} gave no UIDVALIDITY")
    return AioImapClient(client, lost, validity)
