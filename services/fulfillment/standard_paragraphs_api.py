"""The standard-paragraphs half of the Fulfillment gRPC service: admins edit the library letter templates
name, supervisors read it. Protobuf in, standard-paragraph rules, protobuf out."""

from __future__ import annotations

from crs.fulfillment.v1 import fulfillment_pb2 as pb

from services.fulfillment import convert, letter_templates
from services.fulfillment import standard_paragraphs as rules
from services.fulfillment.letter_templates_api import _editor
from services.fulfillment.reply_api import _status
from services.fulfillment.standard_paragraphs_store import StandardParagraphStore


def _paragraph_pb(paragraph: rules.StandardParagraph) -> pb.StandardParagraph:
    message = pb.StandardParagraph(
        name=paragraph.name,
        language=paragraph.language,
        text=paragraph.text,
        retired=paragraph.retired,
        updated_by=paragraph.updated_by,
    )
    if paragraph.updated_at is not None:
        message.updated_at.CopyFrom(convert.timestamp(paragraph.updated_at))
    return message


class StandardParagraphsApi:
    """Mixed into the Fulfillment servicer."""

    standard_paragraphs_store: StandardParagraphStore

    async def _paragraphs_reply(self) -> pb.StandardParagraphs:
        return pb.StandardParagraphs(
            paragraphs=[_paragraph_pb(p) for p in await self.standard_paragraphs_store.all()]
        )

    @_status
    async def ListStandardParagraphs(self, request, context):
        return await self._paragraphs_reply()

    @_status
    async def SaveStandardParagraph(self, request, context):
        principal = _editor(context)
        paragraph = rules.validate(rules.StandardParagraph(request.name, request.language, request.text))
        await self.standard_paragraphs_store.save(paragraph, principal.username)
        return await self._paragraphs_reply()

    @_status
    async def RetireStandardParagraph(self, request, context):
        _editor(context)
        await self.standard_paragraphs_store.retire(letter_templates.validate_name(request.name))
        return await self._paragraphs_reply()
