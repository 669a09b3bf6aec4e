"""The Channels gRPC methods for scanned letters: protobuf in, services/channels/letters.py, protobuf out."""

from __future__ import annotations

import uuid

import grpc
from crs.channels.v1 import channels_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from services.channels.letters import AlreadyFiled, Letters, Scan, UnknownScan
from services.channels.ocr import ScanRefused
from services.runtime.grpcio import errors_to_status
from services.runtime.principal import from_metadata

ERRORS = errors_to_status(
    {
        ScanRefused: grpc.StatusCode.INVALID_ARGUMENT,
        UnknownScan: grpc.StatusCode.NOT_FOUND,
        AlreadyFiled: grpc.StatusCode.FAILED_PRECONDITION,
    }
)


def scan_pb(scan: Scan) -> channels_pb2.LetterScan:
    stamp = Timestamp()
    stamp.FromDatetime(scan.created_at)
    return channels_pb2.LetterScan(
        id=scan.id,
        content_type=scan.content_type,
        filename=scan.filename,
        size=scan.size,
        draft=scan.draft,
        ocr_language=scan.ocr_language,
        uploaded_by=scan.uploaded_by,
        case_id=scan.case_id,
        case_reference=scan.case_reference,
        created_at=stamp,
    )


async def _uuid(context, value: str, name: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{name}: not an id")


class LetterMethods:
    """Mixed into ChannelsApi; `self.letters` is a Letters, or None where letters are not served."""

    letters: Letters | None

    async def _letters(self, context) -> Letters:
        if self.letters is None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "letters are not served here")
        return self.letters

    @ERRORS
    async def DraftLetter(self, request, context):
        who = from_metadata(context.invocation_metadata())
        if who is None or who.role == "service":
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED, "a letter is uploaded by a person: name them"
            )
        letters = await self._letters(context)
        scan = await letters.draft(
            request.data, filename=request.filename, language=request.ocr_language, uploaded_by=who.username
        )
        return scan_pb(scan)

    @ERRORS
    async def ConfirmLetter(self, request, context):
        letters = await self._letters(context)
        consumer_id = await _uuid(context, request.consumer_id, "consumer_id") if request.consumer_id else ""
        scan = await letters.confirm(
            await _uuid(context, request.scan_id, "scan_id"),
            verbatim=request.verbatim,
            consumer_id=consumer_id,
            reporter_name=request.reporter_name,
        )
        return scan_pb(scan)

    async def ListLetterScans(self, request, context):
        letters = await self._letters(context)
        found = await letters.store.for_case(await _uuid(context, request.case_id, "case_id"))
        return channels_pb2.ListLetterScansResponse(scans=[scan_pb(s) for s in found])

    async def GetLetterScan(self, request, context):
        letters = await self._letters(context)
        case_id = await _uuid(context, request.case_id, "case_id")
        scan_id = await _uuid(context, request.scan_id, "scan_id")
        scan = await letters.store.get(scan_id)
        data = await letters.store.data(scan_id, case_id)
        if scan is None or data is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such scan on this case")
        return channels_pb2.LetterScanFile(content_type=scan.content_type, data=data)
