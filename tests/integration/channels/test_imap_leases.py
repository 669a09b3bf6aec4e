"""Mailbox leases on the real database: one replica's session holds a mailbox; another gets it only once
that session is gone (a replica that dies gives its mailboxes up)."""

from __future__ import annotations

from services.channels.imap_store import SqlLeases
from tests.support.wait import async_wait_for


async def test_one_session_holds_a_mailbox_and_another_takes_it_when_that_session_ends(database_url):
    first, second = SqlLeases(database_url), SqlLeases(database_url)
    try:
        assert await first.acquire("care@brand.test@imap:143/INBOX")
        assert await first.acquire("care@brand.test@imap:143/INBOX")  # still held, not taken twice
        assert not await second.acquire("care@brand.test@imap:143/INBOX")
        assert await second.acquire("sales@brand.test@imap:143/INBOX")  # another mailbox is free
        await first.close()  # as when its replica dies
        # The server frees the lock when the closed session's backend has exited, a moment after the
        # client lets go: the other replica takes it on a later try, as its poll does.
        assert await async_wait_for(
            lambda: second.acquire("care@brand.test@imap:143/INBOX"),
            timeout=10,
            what="the other session to take the mailbox of the closed one",
        )
        await second.release("care@brand.test@imap:143/INBOX")
        assert await first.acquire("care@brand.test@imap:143/INBOX")  # reconnects on its own
    finally:
        await first.close()
        await second.close()
