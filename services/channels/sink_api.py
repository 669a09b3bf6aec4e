"""The Channels call that lists what the development mail sink received (development only)."""

from __future__ import annotations

import asyncio
import pathlib

import grpc
from crs.channels.v1 import channels_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from services.channels import sink_browse


def _stamp(value) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


class SinkApi:
    sink_dir: pathlib.Path | None = None

    async def ListSinkMail(self, request, context):
        if self.sink_dir is None:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                "no development mail sink here: replies go to CRS_SMTP_URL",
            )
        limit = max(1, min(request.limit or 50, 200))
        found = await asyncio.to_thread(sink_browse.newest, self.sink_dir, limit)
        return channels_pb2.ListSinkMailResponse(
            mail=[
                channels_pb2.SinkMail(
                    name=m.name,
                    received_at=_stamp(m.received_at),
                    from_address=m.from_address,
                    to_address=m.to_address,
                    subject=m.subject,
                    message_id=m.message_id,
                    in_reply_to=m.in_reply_to,
                    references=m.references,
                    body=m.body,
                    dkim_signed=m.dkim_signed,
                )
                for m in found
            ]
        )
