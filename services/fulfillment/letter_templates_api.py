"""The letter-templates half of the Fulfillment gRPC service: admins edit them, supervisors read and
preview them, each change audited. Protobuf in, letter-template rules, protobuf out."""

from __future__ import annotations

import asyncio
import json
from datetime import date

from crs.fulfillment.v1 import fulfillment_pb2 as pb

from services.fulfillment import convert
from services.fulfillment import letter_templates as rules
from services.fulfillment.letter_templates_store import LetterTemplateStore
from services.fulfillment.replies import NotAllowed, NotFound
from services.fulfillment.reply_api import _principal, _status

EDITORS = ("admin",)


def _json_or_empty(value) -> str:
    # Letters are in French and Japanese: the audit shows their words as written, not as \u escapes.
    return "" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _template_pb(template: rules.LetterTemplate) -> pb.LetterTemplate:
    return pb.LetterTemplate(
        name=template.name,
        language=template.language,
        subject=template.subject,
        greeting=template.greeting,
        paragraphs=list(template.paragraphs),
        closing=template.closing,
        retired=template.retired,
    )


def _change_pb(change: rules.TemplateChange) -> pb.LetterTemplateChange:
    name, language = change.key
    return pb.LetterTemplateChange(
        name=name,
        language=language,
        changed_by=change.changed_by,
        changed_at=convert.timestamp(change.changed_at),
        before_json=_json_or_empty(change.before),
        after_json=_json_or_empty(change.after),
    )


def _editor(context):
    principal = _principal(context)
    if principal.role not in EDITORS:
        raise NotAllowed("letter templates are edited by an admin")
    return principal


class LetterTemplatesApi:
    """Mixed into the Fulfillment servicer."""

    letter_templates_store: LetterTemplateStore

    async def _templates_reply(self) -> pb.LetterTemplates:
        templates = await self.letter_templates_store.all()
        return pb.LetterTemplates(
            templates=[_template_pb(t) for t in templates],
            offered=rules.offered(templates),
            changes=[_change_pb(c) for c in await self.letter_templates_store.changes()],
        )

    @_status
    async def ListLetterTemplates(self, request, context):
        return await self._templates_reply()

    @_status
    async def SaveLetterTemplate(self, request, context):
        principal = _editor(context)
        template = rules.validate(
            rules.LetterTemplate(
                request.name,
                request.language,
                request.subject,
                request.greeting,
                tuple(request.paragraphs),
                request.closing,
            )
        )
        await self.letter_templates_store.save(template, principal.username)
        return await self._templates_reply()

    @_status
    async def RetireLetterTemplate(self, request, context):
        principal = _editor(context)
        await self.letter_templates_store.retire(rules.validate_name(request.name), principal.username)
        return await self._templates_reply()

    @_status
    async def ListOfferedLetters(self, request, context):
        return pb.OfferedLetters(names=rules.offered(await self.letter_templates_store.all()))

    @_status
    async def PreviewLetterTemplate(self, request, context):
        name, language = rules.validate_name(request.name), rules.validate_language(request.language)
        template = await self.letter_templates_store.get(name, language)
        if template is None:
            raise NotFound(f"there is no letter template {name!r} in {language}")
        # WeasyPrint takes a few hundred milliseconds of CPU: off the event loop.
        library = await self.letter_templates_store.library(template)
        pdf = await asyncio.to_thread(rules.preview, template, on=date.today(), library=library)
        return pb.Letter(template=name, language=language, pdf=pdf)
