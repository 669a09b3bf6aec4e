"""Contacts and casework as channels sees them, over gRPC: the ports of services/channels/intake.py.

Channels acts on its own account here: its calls carry the principal "channels" with the role "service",
which its certificate vouches for (services/runtime/grpcio.py, permissions.SERVICE_METHODS). The
timeline of a case it opens shows "channels" as the actor; an agent's reply shows the agent.
"""

from __future__ import annotations

import logging

import grpc
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc, contacts_pb2, contacts_pb2_grpc

from services.channels import mail
from services.channels.intake import Consumer, NewCase, Unfileable
from services.runtime.principal import Principal

log = logging.getLogger(__name__)

SERVICE = Principal("channels", "service").metadata()
# Stages in which a consumer's new message sends the case back to work.
REOPEN_STAGES = ("resolved", "awaiting_consumer")


def _summary(parsed: mail.Parsed) -> str:
    return f"Email from {parsed.sender}: {parsed.subject or '(no subject)'}"[:500]


class CaseworkCases:
    def __init__(self, channel: grpc.aio.Channel, *, issue_code: str):
        self.cases = casework_pb2_grpc.CaseworkStub(channel)
        self.issue_code = issue_code

    async def open_case(
        self, *, consumer: Consumer | None, parsed: mail.Parsed, language: str, verbatim: str
    ) -> NewCase:
        case = casework_pb2.Case(
            channel="email",
            direction="inbound",
            issue_code=self.issue_code,
            verbatim=verbatim[:20000],
            language=language or (consumer.language if consumer else "") or "en",
        )
        if consumer is not None:
            case.consumer_id = consumer.id
        else:
            case.reporter.email = parsed.sender[:200]
            case.reporter.name = parsed.sender_name[:200]
        try:
            created = await self.cases.CreateCase(casework_pb2.CreateCaseRequest(case=case), metadata=SERVICE)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
                raise Unfileable(f"casework refused the case: {exc.details()}") from None
            raise
        return NewCase(created.id, created.reference)

    async def open_chat_case(
        self, *, consumer: Consumer | None, name: str, email: str, language: str, verbatim: str
    ) -> NewCase:
        """A case on the channel "chat"; its verbatim is the consumer's first line, the rest its messages."""
        case = casework_pb2.Case(
            channel="chat",
            direction="inbound",
            issue_code=self.issue_code,
            verbatim=verbatim[:20000],
            language=language or "en",
        )
        if consumer is not None:
            case.consumer_id = consumer.id
        else:
            case.reporter.email = email[:200]
            case.reporter.name = (name or "Chat visitor")[:200]
        created = await self.cases.CreateCase(casework_pb2.CreateCaseRequest(case=case), metadata=SERVICE)
        return NewCase(created.id, created.reference)

    async def chat_answered(self, case_id: str, *, author: str) -> None:
        """An agent's first line in a chat answers the consumer: the first-response clock stops."""
        await self.cases.AddAction(
            casework_pb2.AddActionRequest(
                id=case_id, action_code="replied", note=f"Chat answered by {author}"
            ),
            metadata=SERVICE,
        )

    async def reference_of(self, case_id: str) -> int:
        try:
            case = await self.cases.GetCase(casework_pb2.GetCaseRequest(id=case_id), metadata=SERVICE)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                raise LookupError(f"no case {case_id}") from None
            raise
        return case.reference

    async def escalate(self, case_id: str, *, reason: str) -> None:
        await self.cases.Escalate(casework_pb2.EscalateRequest(id=case_id, reason=reason), metadata=SERVICE)

    async def resolved_by_assistant(self, case_id: str, *, note: str) -> None:
        await self.cases.ChangeStatus(
            casework_pb2.ChangeStatusRequest(id=case_id, status="resolved", note=note), metadata=SERVICE
        )

    async def reopened(self, case_id: str, *, note: str) -> None:
        case = await self.cases.GetCase(casework_pb2.GetCaseRequest(id=case_id), metadata=SERVICE)
        if case.stage in REOPEN_STAGES:
            await self.cases.ChangeStatus(
                casework_pb2.ChangeStatusRequest(id=case_id, status="in_progress", note=note),
                metadata=SERVICE,
            )

    async def received(self, case_id: str, *, parsed: mail.Parsed) -> None:
        """The consumer wrote again: reopen the case when it was resolved or waiting for them, else note it."""
        case = await self.cases.GetCase(casework_pb2.GetCaseRequest(id=case_id), metadata=SERVICE)
        note = _summary(parsed)
        if case.stage in REOPEN_STAGES:
            await self.cases.ChangeStatus(
                casework_pb2.ChangeStatusRequest(id=case_id, status="in_progress", note=note),
                metadata=SERVICE,
            )
        elif case.stage == "closed":
            log.info("a message arrived on closed case %s; kept on the case's messages", case.reference)
        else:
            await self.cases.AddAction(
                casework_pb2.AddActionRequest(id=case_id, action_code="message_received", note=note),
                metadata=SERVICE,
            )

    async def replied(self, case_id: str, *, author: str, subject: str) -> None:
        """The relay accepted an agent's reply: it answers the consumer on the case's timeline."""
        note = f"Email sent by {author}: {subject}"[:500]
        await self.cases.AddAction(
            casework_pb2.AddActionRequest(id=case_id, action_code="replied", note=note), metadata=SERVICE
        )

    async def not_delivered(self, case_id: str, *, error: str) -> None:
        await self.cases.AddAction(
            casework_pb2.AddActionRequest(
                id=case_id, action_code="message_not_delivered", note=f"Email not delivered: {error}"[:500]
            ),
            metadata=SERVICE,
        )


class ContactsConsumers:
    def __init__(self, channel: grpc.aio.Channel):
        self.contacts = contacts_pb2_grpc.ContactsStub(channel)

    async def by_email(self, address: str) -> Consumer | None:
        found = await self.contacts.MatchEmail(
            contacts_pb2.MatchEmailRequest(address=address), metadata=SERVICE
        )
        if not found.consumers:
            return None
        first = found.consumers[0]
        return Consumer(first.id, first.name, (first.language or "").split("-")[0].lower())
