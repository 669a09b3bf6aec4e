"""Small real gRPC servers with canned answers, standing in for contacts, billing, fulfillment, channels and telephony's recording control.

They implement the generated servicers and listen on real ports, so screenpop talks to them exactly as
to the real services; a test can make one slow or stop it to see a source late or down.
"""

from __future__ import annotations

import asyncio
import uuid

import grpc
from crs.billing.v1 import billing_pb2, billing_pb2_grpc
from crs.channels.v1 import channels_pb2, channels_pb2_grpc
from crs.common.v1 import money_pb2
from crs.contacts.v1 import (
    casework_pb2,
    casework_pb2_grpc,
    contacts_pb2,
    contacts_pb2_grpc,
    inbox_pb2,
    inbox_pb2_grpc,
)
from crs.fulfillment.v1 import fulfillment_pb2, fulfillment_pb2_grpc
from crs.insights.v1 import insights_pb2, insights_pb2_grpc
from crs.telephony.v1 import control_pb2, control_pb2_grpc
from google.protobuf import timestamp_pb2

from services.runtime import grpcio, tls

ADA_NUMBER = "+16145550123"
SHARED_NUMBER = "+16145550188"
ADA_ID = "5b3c2d1e-0000-4000-8000-00000000a0da"
CAROL_ID = "5b3c2d1e-0000-4000-8000-0000000ca201"


def _ts(text: str) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromJsonString(text)
    return stamp


def _usd(minor: int) -> money_pb2.Money:
    return money_pb2.Money(currency="USD", amount_minor=minor)


ADA = contacts_pb2.Consumer(
    id=ADA_ID,
    name="Ada Lovelace",
    language="en",
    phones=[contacts_pb2.PhoneNumber(number=ADA_NUMBER, type="mobile")],
    emails=[contacts_pb2.Email(address="ada@example.org", type="personal")],
)
RECENT = contacts_pb2.ContactSummary(
    id="k-1",
    consumer_id=ADA_ID,
    channel="phone",
    direction="inbound",
    summary="Asked about allergens",
    status="closed",
    occurred_at=_ts("2025-03-01T09:30:00Z"),
    call_id="k-1-call@test",
    has_recording=True,
)


class FakeContacts(contacts_pb2_grpc.ContactsServicer):
    def __init__(self):
        self.created: list[contacts_pb2.Consumer] = []

    async def MatchCaller(self, request, context):
        if request.withheld:
            return contacts_pb2.MatchCallerResponse(
                withheld=True, no_match_reason=contacts_pb2.NO_MATCH_REASON_WITHHELD
            )
        if request.number == ADA_NUMBER:
            candidate = contacts_pb2.Candidate(
                consumer_id=ADA_ID,
                name=ADA.name,
                match=contacts_pb2.MATCH_KIND_EXACT,
                matched_number=ADA_NUMBER,
                current=True,
                language="en",
                last_contact_at=_ts("2025-03-01T09:30:00Z"),
                recent_contacts=[RECENT] if request.recent_contacts else [],
            )
            return contacts_pb2.MatchCallerResponse(number_e164=ADA_NUMBER, candidates=[candidate])
        if request.number == SHARED_NUMBER:
            return contacts_pb2.MatchCallerResponse(
                number_e164=SHARED_NUMBER,
                candidates=[
                    contacts_pb2.Candidate(
                        consumer_id=ADA_ID, name="Ada Lovelace", match=contacts_pb2.MATCH_KIND_EXACT
                    ),
                    contacts_pb2.Candidate(
                        consumer_id=CAROL_ID, name="Carol Ng", match=contacts_pb2.MATCH_KIND_EXACT
                    ),
                ],
            )
        return contacts_pb2.MatchCallerResponse(
            number_e164=request.number,
            no_match_reason=contacts_pb2.NO_MATCH_REASON_NOT_FOUND,
            explanation="No consumer has this number.",
        )

    async def GetConsumer(self, request, context):
        if request.id == ADA_ID:
            return ADA
        for consumer in self.created:
            if consumer.id == request.id:
                return consumer
        await context.abort(grpc.StatusCode.NOT_FOUND, "no such consumer")

    async def ListRecentContacts(self, request, context):
        return contacts_pb2.ListRecentContactsResponse(
            contacts=[RECENT] if request.consumer_id == ADA_ID else []
        )

    async def CreateConsumer(self, request, context):
        if not request.consumer.name.strip():
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "a consumer needs a name")
        consumer = contacts_pb2.Consumer()
        consumer.CopyFrom(request.consumer)
        consumer.id = str(uuid.uuid4())
        self.created.append(consumer)
        return consumer


class FakeBilling(billing_pb2_grpc.BillingServicer):
    def __init__(self):
        self.slow = False
        self._never = asyncio.Event()

    async def GetAccountSummary(self, request, context):
        if self.slow:
            await self._never.wait()  # a server that has stopped answering: the caller's deadline ends it
        return billing_pb2.AccountSummary(
            consumer_id=request.consumer_id,
            has_account=True,
            balance=_usd(4250),
            credit_terms=billing_pb2.CreditTerms(
                limit=_usd(100000),
                payment_terms="Net 30",
                net_days=30,
                status=billing_pb2.CREDIT_STATUS_GOOD_STANDING,
            ),
        )

    async def ListLedgerEntries(self, request, context):
        return billing_pb2.ListLedgerEntriesResponse(
            entries=[
                billing_pb2.LedgerEntry(
                    id="l-1",
                    consumer_id=request.consumer_id,
                    kind=billing_pb2.ENTRY_KIND_INVOICE,
                    amount=_usd(4250),
                    reference="INV-1001",
                    posted_at=_ts("2025-02-01T00:00:00Z"),
                )
            ]
        )


class FakeFulfillment(fulfillment_pb2_grpc.FulfillmentServicer):
    async def GetPurchaseHistory(self, request, context):
        product = fulfillment_pb2.Product(sku="OAT-500", name="Oat crunch 500 g", size="500 g")
        return fulfillment_pb2.PurchaseHistory(
            consumer_id=request.consumer_id,
            orders=[
                fulfillment_pb2.Order(
                    id="o-77",
                    consumer_id=request.consumer_id,
                    placed_at=_ts("2025-02-20T12:00:00Z"),
                    channel="web",
                    status="delivered",
                    lines=[fulfillment_pb2.OrderLine(product=product, quantity=2, unit_price=_usd(449))],
                    total=_usd(898),
                )
            ],
            top_products=[fulfillment_pb2.ProductCount(product=product, orders=3, units=6)],
        )


class FakeInsights(insights_pb2_grpc.InsightsServicer):
    """No recall is open: the pop asks, and gets an empty answer in time."""

    async def FindRecalls(self, request, context):
        return insights_pb2.FindRecallsResponse()


class FakeCatalogue(FakeFulfillment):
    async def ListProducts(self, request, context):
        catalogue = [
            fulfillment_pb2.Product(sku="OAT-500", upc="0001", name="Oat crunch 500 g", size="500 g"),
            fulfillment_pb2.Product(sku="RYE-750", upc="0002", name="Rye loaf 750 g", size="750 g"),
        ]
        return fulfillment_pb2.ListProductsResponse(
            products=[p for p in catalogue if request.query.lower() in p.name.lower()]
        )


RECORDED_CALL = "recorded-call@test"
RECORDING_KEY = "2026/12/01/recorded-call.wav"
RECORDED_EXTENSION = "1001"  # ada's, in the demo team


class FakeCasework(casework_pb2_grpc.CaseworkServicer):
    """Keeps cases in memory and remembers who each call said was acting."""

    def __init__(self):
        self.cases: dict[str, casework_pb2.Case] = {}
        self.actors: list[tuple[str, str, str]] = []  # (method, user, role) from the call's metadata

    def _actor(self, method: str, context) -> None:
        found = dict(context.invocation_metadata())
        self.actors.append((method, found.get("crs-principal-user", ""), found.get("crs-principal-role", "")))

    async def _case(self, case_id: str, context) -> casework_pb2.Case:
        if case_id not in self.cases:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such contact")
        return self.cases[case_id]

    async def CreateCase(self, request, context):
        self._actor("CreateCase", context)
        if not request.case.issue_code:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "issue_code: required")
        case = casework_pb2.Case()
        case.CopyFrom(request.case)
        case.id = str(uuid.uuid4())
        case.reference = 1000 + len(self.cases)
        case.status, case.stage, case.version = "new", "new", 1
        case.created_by = dict(context.invocation_metadata()).get("crs-principal-user", "")
        self.cases[case.id] = case
        return case

    async def GetCase(self, request, context):
        return await self._case(request.id, context)

    async def LinkCall(self, request, context):
        self._actor("LinkCall", context)
        case = await self._case(request.id, context)
        case.call_ids.append(request.call_id)
        return case

    async def Escalate(self, request, context):
        self._actor("Escalate", context)
        case = await self._case(request.id, context)
        case.escalated, case.escalation_reason = True, request.reason
        return case

    async def Assign(self, request, context):
        self._actor("Assign", context)
        case = await self._case(request.id, context)
        case.assignee = request.assignee
        return case

    async def GetQueue(self, request, context):
        return casework_pb2.SearchCasesResponse(cases=[c for c in self.cases.values() if c.escalated])

    async def SearchCases(self, request, context):
        return casework_pb2.SearchCasesResponse(cases=list(self.cases.values())[: request.limit or 50])

    async def ListCodes(self, request, context):
        codes = [casework_pb2.Code(kind=request.kind, code="complaint.quality", label="Quality", active=True)]
        if request.kind == "issue":
            from tests.integration.console.knowledge_fake import issue_paths

            codes += [
                casework_pb2.Code(kind="issue", code=c, label=p.rpartition("\u203a ")[2], path=p, active=True)
                for c, p in issue_paths().items()
            ]
        return casework_pb2.ListCodesResponse(codes=codes)

    async def PutCode(self, request, context):
        self._actor("PutCode", context)
        return request.code

    async def GetCall(self, request, context):
        if request.call_id != RECORDED_CALL:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such call")
        if request.for_playback:
            # Contacts' rule, as the contract states it: the call (taken at 1001) must be of the team.
            found = dict(context.invocation_metadata())
            team = found.get("crs-principal-team-extensions", "").split(",")
            if found.get("crs-principal-role") != "supervisor" or RECORDED_EXTENSION not in team:
                await context.abort(
                    grpc.StatusCode.PERMISSION_DENIED, "this recording is of a call outside your team"
                )
        return casework_pb2.FiledCall(
            call_id=RECORDED_CALL,
            consumer_id=ADA_ID,
            recording_key=RECORDING_KEY,
            duration_seconds=3,
            extension=RECORDED_EXTENSION,
        )


class FakeInbox(inbox_pb2_grpc.InboxServicer):
    """Claims as the inbox keeps them: a case another person holds refuses the claim, naming them."""

    def __init__(self):
        self.holders: dict[str, str] = {}  # case id -> who holds it

    async def ClaimCase(self, request, context):
        who = dict(context.invocation_metadata()).get("crs-principal-user", "")
        holder = self.holders.setdefault(request.case_id, who)
        if holder != who:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION, f"{holder} claimed this case and is answering it"
            )
        return inbox_pb2.CaseClaim(case_id=request.case_id, agent=who)


class FakeRecordingControl(control_pb2_grpc.RecordingControlServicer):
    """Pauses and resumes the recording of the calls a test says are in progress; remembers who asked."""

    def __init__(self):
        self.in_progress: set[str] = set()
        self.paused: set[str] = set()
        self.actors: list[tuple[str, str, str]] = []  # (method, user, call_id)

    async def _change(self, method: str, request, context, paused: bool) -> control_pb2.RecordingState:
        user = dict(context.invocation_metadata()).get("crs-principal-user", "")
        self.actors.append((method, user, request.call_id))
        if request.call_id not in self.in_progress:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such call in progress")
        changed = (request.call_id in self.paused) != paused
        (self.paused.add if paused else self.paused.discard)(request.call_id)
        return control_pb2.RecordingState(call_id=request.call_id, paused=paused, changed=changed)

    async def PauseRecording(self, request, context):
        return await self._change("PauseRecording", request, context, True)

    async def ResumeRecording(self, request, context):
        return await self._change("ResumeRecording", request, context, False)

    async def GetRecordingState(self, request, context):
        user = dict(context.invocation_metadata()).get("crs-principal-user", "")
        self.actors.append(("GetRecordingState", user, request.call_id))
        if request.call_id not in self.in_progress:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such call in progress")
        return control_pb2.RecordingState(call_id=request.call_id, paused=request.call_id in self.paused)


class FakeChannels(channels_pb2_grpc.ChannelsServicer):
    """One email case's conversation; a reply is appended with the author the principal names."""

    def __init__(self):
        self.messages: dict[str, list[channels_pb2.Message]] = {}
        self.template_languages: list[str] = []  # the language of each ListReplyTemplates asked

    async def ListReplyTemplates(self, request, context):
        self.template_languages.append(request.language)
        template = channels_pb2.ReplyTemplate(
            id=1, name="Lot code", language=request.language or "en", body="…"
        )
        return channels_pb2.ListReplyTemplatesResponse(templates=[template])

    async def ListMessages(self, request, context):
        return channels_pb2.ListMessagesResponse(messages=self.messages.get(request.case_id, []))

    async def SendReply(self, request, context):
        thread = self.messages.get(request.case_id)
        if not thread:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION, "this case has no email from the consumer"
            )
        author = dict(context.invocation_metadata()).get("crs-principal-user", "")
        reply = channels_pb2.Message(
            id=len(thread) + 1,
            case_id=request.case_id,
            direction="outbound",
            body=request.body,
            author=author,
            to_address=thread[0].from_address,
            delivery="queued",
        )
        thread.append(reply)
        return reply

    async def WebFormTally(self, request, context):
        return channels_pb2.WebFormTallyResponse(
            days=request.days,
            offered=40,
            deflected=12,
            submitted=25,
            reopened=1,
            articles=[channels_pb2.ArticleDeflections(article_id="oats-where-to-buy", deflections=9)],
        )


class FakeServer:
    """One fake servicer on a real port; stop() and start() again on the same port."""

    def __init__(self, servicer, add_fn, also=(), identity: str | None = None):
        self.servicer = servicer
        self.add_fn = add_fn
        self.also = list(also)
        self.identity = identity  # whose certificate it presents (default: this process's)
        self.port = 0
        self.server: grpc.aio.Server | None = None

    def _credentials(self) -> grpc.ServerCredentials:
        if self.identity is None:
            return grpcio.server_credentials()
        own = tls.load(self.identity)
        return grpc.ssl_server_credentials(
            [(own.key, own.certificate)], root_certificates=own.ca, require_client_auth=True
        )

    async def start(self) -> int:
        self.server = grpc.aio.server()
        self.add_fn(self.servicer, self.server)
        for servicer, add_fn in self.also:
            add_fn(servicer, self.server)
        self.port = self.server.add_secure_port(f"127.0.0.1:{self.port}", self._credentials())
        await self.server.start()
        return self.port

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(0)
            self.server = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


def fake_servers() -> dict[str, FakeServer]:
    return {
        "contacts": FakeServer(
            FakeContacts(),
            contacts_pb2_grpc.add_ContactsServicer_to_server,
            also=[
                (FakeCasework(), casework_pb2_grpc.add_CaseworkServicer_to_server),
                (FakeInbox(), inbox_pb2_grpc.add_InboxServicer_to_server),
            ],
        ),
        "billing": FakeServer(FakeBilling(), billing_pb2_grpc.add_BillingServicer_to_server),
        "insights": FakeServer(FakeInsights(), insights_pb2_grpc.add_InsightsServicer_to_server),
        "channels": FakeServer(FakeChannels(), channels_pb2_grpc.add_ChannelsServicer_to_server),
        "fulfillment": FakeServer(FakeCatalogue(), fulfillment_pb2_grpc.add_FulfillmentServicer_to_server),
        "telephony": FakeServer(
            FakeRecordingControl(), control_pb2_grpc.add_RecordingControlServicer_to_server
        ),
        # A second telephony replica, reached only at the address its calls' ringing names.
        "telephony-2": FakeServer(
            FakeRecordingControl(),
            control_pb2_grpc.add_RecordingControlServicer_to_server,
            identity="telephony",
        ),
        # Answers at an address a ringing could name, but with a certificate that is not telephony's.
        "impostor": FakeServer(
            FakeRecordingControl(),
            control_pb2_grpc.add_RecordingControlServicer_to_server,
            identity="billing",
        ),
    }
