"""The Campaigns gRPC service: campaigns to segments made, listed and shown with their results; their moves
and progress; and the recall tally. No SQL here.

Permissions are checked by the server from the one table (services/runtime/permissions.py).
"""

from __future__ import annotations

import uuid

import grpc
from crs.outreach.v1 import campaigns_pb2 as pb
from crs.outreach.v1 import campaigns_pb2_grpc

from services.outreach.campaign_sender import ChannelsDown, Notice, Notices
from services.outreach.campaigns import NotAllowedNow, next_state
from services.outreach.campaigns_store import CampaignNotFound, CampaignStore, Listed
from services.outreach.recalls_store import RecallStore
from services.outreach.segments_grpc import actor, segment_id
from services.outreach.segments_store import SegmentNotFound, SegmentStore
from services.runtime.grpcio import Servicer, errors_to_status

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Campaigns"].full_name
ERRORS = errors_to_status(
    {
        NotAllowedNow: grpc.StatusCode.FAILED_PRECONDITION,
        CampaignNotFound: grpc.StatusCode.NOT_FOUND,
        ChannelsDown: grpc.StatusCode.UNAVAILABLE,
        SegmentNotFound: grpc.StatusCode.NOT_FOUND,
    }
)
MOVES = ("test", "start", "pause", "resume")
MAX_SUBJECT, MAX_BODY, MAX_RATE = 200, 50_000, 1000


def _when(at) -> str:
    return at.isoformat() if at else ""


async def _campaign_id(context, text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "campaign_id must be a UUID")


def test_notice(campaign, to_address: str) -> Notice:
    """The campaign's message as a consumer would get it, to a colleague's address. It is no marketing to
    a consumer (no unsubscribe to offer), and each press of "test" sends again, so its key is fresh."""
    return Notice(
        f"campaign-test:{campaign.id}:{uuid.uuid4().hex}",
        to_address,
        f"[Test] {campaign.subject}",
        campaign.body,
        "service",
    )


class CampaignsApi(campaigns_pb2_grpc.CampaignsServicer):
    def __init__(
        self, campaigns: CampaignStore, recalls: RecallStore, notices: Notices, segments: SegmentStore
    ):
        self.campaigns, self.recalls, self.notices = campaigns, recalls, notices
        self.segments = segments

    @ERRORS
    async def MoveCampaign(self, request, context):
        campaign_id = await _campaign_id(context, request.campaign_id)
        if request.move not in MOVES:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"move is one of {', '.join(MOVES)}")
        if request.move == "test" and "@" not in request.test_to:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "a test send needs the address to send it to"
            )
        if request.move == "test":
            await self._test_send(context, campaign_id, request.test_to)
        if request.move == "start":
            await self._enrol(campaign_id)
        await self.campaigns.move(campaign_id, request.move, tested_to=request.test_to)
        return await self._progress(campaign_id)

    async def _test_send(self, context, campaign_id: str, to_address: str) -> None:
        """Send the test before recording it: a campaign is tested only once its message went out."""
        next_state(await self.campaigns.state(campaign_id), "test")
        campaign = await self.campaigns.campaign(campaign_id)
        if not (await self.notices.send([test_notice(campaign, to_address)]))[0]:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"channels refused the address {to_address}"
            )

    async def _enrol(self, campaign_id: str) -> None:
        """A segment's campaign takes its recipients from the segment as it matches when it starts."""
        next_state(await self.campaigns.state(campaign_id), "start")
        from_segment = await self.campaigns.segment_of(campaign_id)
        if from_segment:
            await self.segments.enrol(campaign_id, (await self.segments.get(from_segment)).definition)

    @ERRORS
    async def CreateCampaign(self, request, context):
        chosen = await segment_id(context, request.segment_id)
        await self.segments.get(chosen)
        name, subject, body = request.name.strip(), request.subject.strip(), request.body.strip()
        if not name or not subject or not body:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "a campaign needs a name, a subject and a body"
            )
        if len(subject) > MAX_SUBJECT or len(body) > MAX_BODY or len(name) > MAX_SUBJECT:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"name and subject: at most {MAX_SUBJECT} characters; body: at most {MAX_BODY}",
            )
        if not 0 <= request.rate_per_second <= MAX_RATE:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"rate_per_second: 1 to {MAX_RATE} (0: the default)"
            )
        made = await self.campaigns.create(
            kind="marketing",
            name=name,
            subject=subject,
            body=body,
            created_by=actor(context),
            segment_id=chosen,
            rate_per_second=request.rate_per_second or 50,
        )
        return await self._detail((await self.campaigns.listed(made))[0])

    @ERRORS
    async def ListCampaigns(self, request, context):
        return pb.ListCampaignsResponse(
            campaigns=[await self._detail(c, with_reasons=False) for c in await self.campaigns.listed()]
        )

    @ERRORS
    async def GetCampaign(self, request, context):
        campaign_id = await _campaign_id(context, request.campaign_id)
        return await self._detail((await self.campaigns.listed(campaign_id))[0])

    async def _detail(self, c: Listed, *, with_reasons: bool = True) -> pb.CampaignDetail:
        reasons = await self.campaigns.reasons(c.id) if with_reasons else []
        return pb.CampaignDetail(
            id=c.id,
            kind=c.kind,
            name=c.name,
            segment_id=c.segment_id,
            segment_name=c.segment_name,
            subject=c.subject,
            body=c.body,
            rate_per_second=c.rate_per_second,
            tested_to=c.tested_to,
            created_by=c.created_by,
            created_at=_when(c.created_at),
            started_at=_when(c.started_at),
            finished_at=_when(c.finished_at),
            progress=await self._progress(c.id, state=c.state),
            reasons=[pb.ReasonCount(status=s, reason=r, count=n) for s, r, n in reasons],
        )

    @ERRORS
    async def GetCampaignProgress(self, request, context):
        return await self._progress(await _campaign_id(context, request.campaign_id))

    @ERRORS
    async def RecallTally(self, request, context):
        if not request.recall_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "recall_id is required")
        affected, notified = await self.recalls.tally(request.recall_id)
        return pb.RecallTallyResponse(recall_id=request.recall_id, affected=affected, notified=notified)

    async def _progress(self, campaign_id: str, *, state: str = "") -> pb.CampaignProgress:
        state = state or await self.campaigns.state(campaign_id)
        p = await self.campaigns.progress(campaign_id)
        return pb.CampaignProgress(
            campaign_id=campaign_id,
            state=state,
            total=p.total,
            sent=p.sent,
            deferred=p.deferred,
            suppressed=p.suppressed,
            failed=p.failed,
            remaining=p.remaining,
        )


def servicer(
    campaigns: CampaignStore, recalls: RecallStore, notices: Notices, segments: SegmentStore
) -> Servicer:
    return Servicer(
        CampaignsApi(campaigns, recalls, notices, segments),
        campaigns_pb2_grpc.add_CampaignsServicer_to_server,
        SERVICE_NAME,
    )
