"""Channels' use cases behind its gRPC API: a case's messages, an agent's reply, fulfillment's letters by
email, the rejected mail."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from typing import Protocol

from services.channels import letter_mail, outbound
from services.channels.store import MessageRow, SqlStore


class CaseReferences(Protocol):
    async def reference_of(self, case_id: str) -> int:
        """The case's number; LookupError when there is no such case."""


class Channels:
    def __init__(
        self,
        store: SqlStore,
        *,
        from_address: str,
        domain: str,
        signer=None,
        clock=None,
        cases: CaseReferences | None = None,
    ):
        self.store = store
        self.cases = cases
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

    async def send_letter(self, letter: letter_mail.LetterEmail) -> MessageRow:
        """Queue fulfillment's letter once per fulfillment: a retry gets the message first queued."""
        letter = letter_mail.checked(letter)
        earlier = await self.store.letter_message(letter.fulfillment_id)
        if earlier is not None:
            return earlier
        thread = await self.store.thread_for_reply(letter.case_id)
        if thread is not None:
            reference = thread.reference
        elif self.cases is not None:
            reference = await self.cases.reference_of(letter.case_id)
        else:
            raise LookupError("no case numbers here to thread a letter on")
        mail = letter_mail.compose(
            letter,
            thread=thread,
            reference=reference,
            from_address=self.from_address,
            domain=self.domain,
            now=self.clock(),
        )
        if self.signer is not None:
            mail = dataclasses.replace(mail, mime=self.signer.sign(mail.mime))
        row = await self.store.queue_letter(letter, mail, reference=reference)
        self.queued.set()
        return row
