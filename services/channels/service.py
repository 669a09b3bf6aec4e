"""Channels' use cases behind its gRPC API: a case's messages, an agent's reply, the rejected mail."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime

from services.channels import outbound
from services.channels.store import MessageRow, SqlStore


class Channels:
    def __init__(self, store: SqlStore, *, from_address: str, domain: str, signer=None, clock=None):
        self.store = store
        # A services.channels.dkim_sign.Signer, or None: replies go unsigned.
        self.signer = signer
        self.from_address = from_address
        self.domain = domain
        self.clock = clock or (lambda: datetime.now().astimezone())
        # Set when a reply is queued, so the sender loop tries it at once rather than at its next tick.
        self.queued = asyncio.Event()

    async def reply(self, case_id: str, *, body: str, subject: str, author: str) -> MessageRow:
        thread = await self.store.thread_for_reply(case_id)
        if thread is None:
            raise outbound.NoThread("this case has no email from the consumer to answer")
        reply = outbound.compose(
            thread,
            body=body,
            subject=subject,
            from_address=self.from_address,
            domain=self.domain,
            now=self.clock(),
        )
        if self.signer is not None:
            reply = dataclasses.replace(reply, mime=self.signer.sign(reply.mime))
        row = await self.store.queue_reply(thread, reply, author=author)
        self.queued.set()
        return row
