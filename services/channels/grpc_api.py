"""The Channels gRPC service: protobuf in, channels' use cases, protobuf out. No SQL here."""

from __future__ import annotations

import asyncio
import pathlib
import uuid

import grpc
from crs.channels.v1 import channels_pb2, channels_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from services.channels.chat import ChatDesks, Refused
from services.channels.chat_files import ChatFiles
from services.channels.chat_files_grpc import ChatFileMethods, chat_line_pb
from services.channels.letter_mail import InvalidLetter, LetterEmail
from services.channels.letters import Letters
from services.channels.letters_grpc import LetterMethods
from services.channels.notices import Notices
from services.channels.notices_grpc import NoticeMethods, only_the_service
from services.channels.outbound import InvalidReply, NoThread
from services.channels.reply_templates import ReplyTemplates
from services.channels.reply_templates_api import ReplyTemplatesApi
from services.channels.service import Channels
from services.channels.sink_api import SinkApi
from services.channels.store import MessageRow
from services.channels.web_form_grpc import WebFormTally, web_form_tally
from services.runtime.grpcio import Servicer, errors_to_status
from services.runtime.principal import from_metadata

LETTER_SENDER = "fulfillment"
SERVICE_NAME = channels_pb2.DESCRIPTOR.services_by_name["Channels"].full_name
ERRORS = errors_to_status(
    {
        InvalidReply: grpc.StatusCode.INVALID_ARGUMENT,
        NoThread: grpc.StatusCode.FAILED_PRECONDITION,
        InvalidLetter: grpc.StatusCode.INVALID_ARGUMENT,
        LookupError: grpc.StatusCode.NOT_FOUND,
    }
)


def _stamp(value) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def message_pb(row: MessageRow) -> channels_pb2.Message:
    return channels_pb2.Message(
        id=row.id,
        case_id=row.case_id,
        direction=row.direction,
        message_id=row.message_id,
        from_address=row.from_address,
        to_address=row.to_address,
        subject=row.subject,
        body=row.body,
        language=row.language,
        delivery=row.delivery,
        author=row.author,
        attachments=[channels_pb2.Attachment(**a) for a in row.attachments],
        created_at=_stamp(row.created_at),
        attempts=row.attempts,
        last_error=row.last_error,
        channel=row.channel,
        fulfillment_id=row.fulfillment_id,
    )


async def _case_id(context, value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "case_id: not a case id")


def chat_event_pb(event: dict) -> channels_pb2.ChatEvent:
    lines = [chat_line_pb(x) for x in event.get("lines", ())]
    return channels_pb2.ChatEvent(**{k: v for k, v in event.items() if k != "lines"}, lines=lines)


class DeskStream:
    """An agent's desk as chat sees it: events queued for the stream back to their console."""

    def __init__(self):
        self.events: asyncio.Queue[channels_pb2.ChatEvent | None] = asyncio.Queue(maxsize=1000)

    async def send(self, event: dict) -> None:
        self.events.put_nowait(chat_event_pb(event))


async def _act(desks: ChatDesks, username: str, action, desk: DeskStream) -> None:
    """One action from the agent's console; a refused one is told back to the desk, the stream goes on."""
    try:
        if action.kind == "reply":
            await desks.agent_says(username, action.chat_id, action.body)
        elif action.kind == "typing":
            await desks.agent_typing(username, action.chat_id)
        elif action.kind == "delivered":
            await desks.agent_saw(username, action.chat_id, action.line_id)
        elif action.kind == "end":
            await desks.agent_ends(username, action.chat_id)
        else:
            raise Refused(f"not a chat action: {action.kind[:40]!r}")
    except Refused as exc:
        await desk.send({"kind": "refused", "chat_id": action.chat_id, "detail": str(exc)})


class ChannelsApi(
    ReplyTemplatesApi,
    SinkApi,
    LetterMethods,
    ChatFileMethods,
    NoticeMethods,
    channels_pb2_grpc.ChannelsServicer,
):
    def __init__(
        self,
        channels: Channels,
        desks: ChatDesks | None = None,
        templates: ReplyTemplates | None = None,
        sink_dir: pathlib.Path | None = None,
        *,
        web_form: WebFormTally,
        letters: Letters | None = None,
        chat_files: ChatFiles | None = None,
        notices: Notices | None = None,
    ):
        self.notices = notices
        self.chat_files = chat_files
        self.channels = channels
        self.desks = desks
        self.templates = templates
        self.sink_dir = sink_dir
        self.web_form = web_form
        self.letters = letters

    async def AgentChat(self, request_iterator, context):
        who = from_metadata(context.invocation_metadata())
        if who is None or who.role == "service":
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "a chat desk is an agent's: name them")
        if self.desks is None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "chat is not served here")
        first = await anext(aiter(request_iterator), None)
        if first is None or first.kind != "available":
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "the first action opens the desk: available"
            )
        desk = DeskStream()
        try:
            await self.desks.open_desk(
                who.username,
                first.display_name[:100],
                languages=list(first.languages),
                skills=list(first.skills),
                capacity=first.capacity,
                sink=desk,
            )
        except Refused as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))

        async def read_actions():
            try:
                async for action in request_iterator:
                    await _act(self.desks, who.username, action, desk)
            finally:
                desk.events.put_nowait(None)

        reading = asyncio.create_task(read_actions())
        try:
            while (event := await desk.events.get()) is not None:
                yield event
        finally:
            self.desks.close_desk(who.username, desk)
            reading.cancel()

    async def ListMessages(self, request, context):
        found = await self.channels.store.messages(await _case_id(context, request.case_id))
        return channels_pb2.ListMessagesResponse(messages=[message_pb(m) for m in found])

    @ERRORS
    async def SendReply(self, request, context):
        who = from_metadata(context.invocation_metadata())
        if who is None:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "a reply needs the agent's principal")
        row = await self.channels.reply(
            await _case_id(context, request.case_id),
            body=request.body,
            subject=request.subject,
            author=who.username,
        )
        return message_pb(row)

    @ERRORS
    async def SendLetter(self, request, context):
        await only_the_service(context, LETTER_SENDER, "only fulfillment sends its letters")
        row = await self.channels.send_letter(
            LetterEmail(
                fulfillment_id=request.fulfillment_id,
                case_id=request.case_id,
                to_address=request.to_address,
                consumer_name=request.consumer_name,
                language=request.language,
                pdf=request.pdf,
                template=request.template,
            )
        )
        return message_pb(row)

    async def ListRejections(self, request, context):
        found = await self.channels.store.rejections(max(1, min(request.limit or 50, 500)))
        return channels_pb2.ListRejectionsResponse(
            rejections=[
                channels_pb2.Rejection(
                    id=r.id, reason=r.reason, detail=r.detail, size=r.size, received_at=_stamp(r.received_at)
                )
                for r in found
            ]
        )

    async def WebFormTally(self, request, context):
        return await web_form_tally(self.web_form, request)


def servicer(
    channels: Channels,
    desks: ChatDesks | None = None,
    templates: ReplyTemplates | None = None,
    sink_dir: pathlib.Path | None = None,
    *,
    web_form: WebFormTally,
    letters: Letters | None = None,
    chat_files: ChatFiles | None = None,
    notices: Notices | None = None,
) -> Servicer:
    return Servicer(
        ChannelsApi(
            channels,
            desks,
            templates,
            sink_dir,
            web_form=web_form,
            letters=letters,
            chat_files=chat_files,
            notices=notices,
        ),
        channels_pb2_grpc.add_ChannelsServicer_to_server,
        SERVICE_NAME,
    )
