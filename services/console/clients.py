"""The console's gRPC clients: every call carries a deadline and, for a person's request, their principal.

The services take the actor of a change from the principal in the call's metadata, never from a field of
the request (services/runtime/principal.py).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

from crs.billing.v1 import billing_pb2_grpc
from crs.channels.v1 import channels_pb2_grpc
from crs.contacts.v1 import (
    casework_pb2_grpc,
    contacts_pb2_grpc,
    inbox_pb2_grpc,
    regulatory_pb2_grpc,
    rights_pb2_grpc,
)
from crs.fulfillment.v1 import fulfillment_pb2_grpc
from crs.insights.v1 import insights_pb2_grpc, staff_pb2_grpc, themes_pb2_grpc
from crs.knowledge.v1 import knowledge_pb2_grpc
from crs.outreach.v1 import campaigns_pb2_grpc, consent_pb2_grpc, segments_pb2_grpc, surveys_pb2_grpc
from crs.screenpop.v1 import screenpop_pb2_grpc
from crs.telephony.v1 import control_pb2_grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from services.console.auth import Principal
from services.runtime import grpcio

# A replica's control address as telephony announces it (call_ringing.control_address): host:port.
CONTROL_ADDRESS = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253}):[0-9]{1,5}$")
# The identity every telephony replica's certificate carries, whatever address it is dialled at.
TELEPHONY_IDENTITY = "telephony"
MAX_REPLICA_CHANNELS = 32
ENUM_PREFIXES = ("MATCH_KIND_", "CREDIT_STATUS_", "NO_MATCH_REASON_", "ENTRY_KIND_")


def _shorten(value: Any) -> Any:
    """Enum names as words: CREDIT_STATUS_ON_HOLD -> on_hold."""
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v) for v in value]
    if isinstance(value, str):
        for prefix in ENUM_PREFIXES:
            if value.startswith(prefix):
                return value.removeprefix(prefix).lower()
    return value


def as_json(message: Message) -> dict[str, Any]:
    """Protobuf's JSON mapping with the proto's own field names, every field present."""
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def as_words(message: Message) -> dict[str, Any]:
    """as_json, with enum values as short words, for pages."""
    return _shorten(as_json(message))


class Clients:
    """Long-lived channels to contacts (its directory, casework and consumer rights), billing, fulfillment,
    screenpop, telephony (its recording control), channels (a case's email), knowledge, insights and
    outreach (a recall's notices, consent, the public unsubscribe page, segments and campaigns)."""

    def __init__(
        self,
        *,
        contacts: str,
        billing: str,
        fulfillment: str,
        screenpop: str,
        telephony: str,
        knowledge: str,
        deadline: float,
        channels: str = "127.0.0.1:50058",
        insights: str = "127.0.0.1:50056",
        outreach: str = "127.0.0.1:50059",
    ):
        self.deadline = deadline
        targets = (contacts, billing, fulfillment, screenpop, telephony, channels, knowledge)
        # Contacts' channel carries export archives, recordings inside: more than gRPC's default 4 MiB.
        self._channels = [grpcio.channel(t, large_messages=t == contacts) for t in targets]
        (
            contacts_channel,
            billing_channel,
            fulfillment_channel,
            screenpop_channel,
            telephony_channel,
            channels_channel,
            knowledge_channel,
        ) = self._channels
        self.contacts = contacts_pb2_grpc.ContactsStub(contacts_channel)
        self.casework = casework_pb2_grpc.CaseworkStub(contacts_channel)
        self.inbox = inbox_pb2_grpc.InboxStub(contacts_channel)
        self.regulatory = regulatory_pb2_grpc.RegulatoryStub(contacts_channel)
        self.rights = rights_pb2_grpc.ConsumerRightsStub(contacts_channel)
        self.billing = billing_pb2_grpc.BillingStub(billing_channel)
        self.fulfillment = fulfillment_pb2_grpc.FulfillmentStub(fulfillment_channel)
        self.screenpop = screenpop_pb2_grpc.ScreenpopStub(screenpop_channel)
        self.recording_control = control_pb2_grpc.RecordingControlStub(telephony_channel)
        self.channels = channels_pb2_grpc.ChannelsStub(channels_channel)
        self.knowledge = knowledge_pb2_grpc.KnowledgeStub(knowledge_channel)
        self._channels.append(grpcio.channel(insights))
        self.insights = insights_pb2_grpc.InsightsStub(self._channels[-1])
        self.themes = themes_pb2_grpc.ThemesStub(self._channels[-1])
        self.staff = staff_pb2_grpc.StaffStub(self._channels[-1])
        self._channels.append(grpcio.channel(outreach))
        self.campaigns = campaigns_pb2_grpc.CampaignsStub(self._channels[-1])
        self.consent = consent_pb2_grpc.ConsentStub(self._channels[-1])
        self.segments = segments_pb2_grpc.SegmentsStub(self._channels[-1])
        self.survey_rules = surveys_pb2_grpc.SurveyRulesStub(self._channels[-1])
        self.survey_answers = surveys_pb2_grpc.SurveyAnswersStub(self._channels[-1])
        self._replicas: OrderedDict[str, tuple[Any, Any]] = OrderedDict()

    async def recording_control_at(self, address: str):
        """The recording control of the telephony replica at `address` (the one holding a call), or of
        CRS_TELEPHONY_GRPC when the call does not say. The replica must present telephony's certificate:
        the address only says where to dial, never whom to trust."""
        if not address:
            return self.recording_control
        if not CONTROL_ADDRESS.match(address):
            raise ValueError(f"not a control address: {address[:80]!r}")
        if address in self._replicas:
            self._replicas.move_to_end(address)
            return self._replicas[address][1]
        channel = grpcio.channel(address, tls_name=TELEPHONY_IDENTITY)
        stub = control_pb2_grpc.RecordingControlStub(channel)
        self._replicas[address] = (channel, stub)
        if len(self._replicas) > MAX_REPLICA_CHANNELS:  # replicas come and go; keep the ones in use
            _, (oldest, _) = self._replicas.popitem(last=False)
            await oldest.close()
        return stub

    async def call(self, method, request: Message, who: Principal | None, *, deadline: float | None = None):
        """`method(request)` under a deadline, as `who` when a person is asking."""
        metadata = who.for_services().metadata() if who is not None else None
        return await method(request, timeout=deadline or self.deadline, metadata=metadata)

    async def close(self) -> None:
        for channel in self._channels + [channel for channel, _ in self._replicas.values()]:
            await channel.close()
