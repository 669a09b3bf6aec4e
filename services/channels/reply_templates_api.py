"""The reply-template calls of the Channels gRPC service: protobuf in and out, the use case between."""

from __future__ import annotations

import grpc
from crs.channels.v1 import channels_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from services.channels.reply_templates import InvalidTemplate, NoSuchTemplate, ReplyTemplates, Template
from services.runtime.grpcio import errors_to_status
from services.runtime.principal import from_metadata

ERRORS = errors_to_status(
    {InvalidTemplate: grpc.StatusCode.INVALID_ARGUMENT, NoSuchTemplate: grpc.StatusCode.NOT_FOUND}
)


def template_pb(template: Template) -> channels_pb2.ReplyTemplate:
    stamp = Timestamp()
    if template.updated_at is not None:
        stamp.FromDatetime(template.updated_at)
    return channels_pb2.ReplyTemplate(
        id=template.id,
        name=template.name,
        language=template.language,
        body=template.body,
        updated_by=template.updated_by,
        updated_at=stamp,
    )


class ReplyTemplatesApi:
    templates: ReplyTemplates | None = None

    async def _templates(self, context) -> ReplyTemplates:
        if self.templates is None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "reply templates are not served here")
        return self.templates

    async def ListReplyTemplates(self, request, context):
        found = await (await self._templates(context)).listed(request.language.strip()[:10])
        return channels_pb2.ListReplyTemplatesResponse(templates=[template_pb(t) for t in found])

    @ERRORS
    async def SaveReplyTemplate(self, request, context):
        who = from_metadata(context.invocation_metadata())
        if who is None:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "a template's editor must be named")
        given = Template(request.id, request.name, request.language, request.body)
        return template_pb(await (await self._templates(context)).save(given, editor=who.username))

    @ERRORS
    async def DeleteReplyTemplate(self, request, context):
        await (await self._templates(context)).delete(request.id)
        return channels_pb2.DeleteReplyTemplateResponse()
