"""Mailbox leases on the real database: one replica's session holds a mailbox; another gets it only once
that session is gone (a replica that dies gives its mailboxes up)."""

from __future__ import annotations

from services.channels.imap_store import SqlLeases


async def test_one_session_holds_a_mailbox_and_another_takes_it_when_that_session_ends(database_url):
    first, second = SqlLeases(database_url), SqlLeases(database_url)
    try:
        assert await first.acquire("care@brand.test@imap:143/INBOX")
        assert await first.acquire("care@brand.test@imap:143/INBOX")  # still held, not taken twice
        assert not await second.acquire("care@brand.test@imap:143/INBOX")
        assert await second.acquire("sales@brand.test@imap:143/INBOX")  # another mailbox is free
        await first.close()  # as when its replica dies
        assert await second.acquire("care@brand.test@imap:143/INBOX")
        await second.release("care@brand.test@imap:143/INBOX")
        assert await first.acquire("care@brand.test@imap:143/INBOX")  # reconnects on its own
    finally:
        await first.close()
        await second.close()
