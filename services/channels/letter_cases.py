"""Casework as letters see it, over gRPC, on channels' own account (like services/channels/contacts_client.py)."""

from __future__ import annotations

import grpc
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc

from services.channels.ocr import ScanRefused
from services.runtime.principal import Principal

SERVICE = Principal("channels", "service").metadata()


class CaseworkLetters:
    def __init__(self, channel: grpc.aio.Channel, *, issue_code: str):
        self.cases = casework_pb2_grpc.CaseworkStub(channel)
        self.issue_code = issue_code

    async def open_letter_case(
        self, *, consumer_id: str, reporter_name: str, language: str, verbatim: str
    ) -> tuple[str, int]:
        case = casework_pb2.Case(
            channel="letter",
            direction="inbound",
            issue_code=self.issue_code,
            verbatim=verbatim,
            language=language,
        )
        if consumer_id:
            case.consumer_id = consumer_id
        else:
            case.reporter.name = reporter_name or "Letter writer"
        try:
            created = await self.cases.CreateCase(casework_pb2.CreateCaseRequest(case=case), metadata=SERVICE)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND):
                raise ScanRefused(f"casework refused the case: {exc.details()}") from None
            raise
        return created.id, created.reference
