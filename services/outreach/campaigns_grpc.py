"""The Campaigns gRPC service: moves and progress of campaigns, and the recall tally. No SQL here.

Permissions are checked by the server from the one table (services/runtime/permissions.py).
"""

from __future__ import annotations

import uuid

import grpc
from crs.outreach.v1 import campaigns_pb2 as pb
from crs.outreach.v1 import campaigns_pb2_grpc

from services.outreach.campaign_sender import ChannelsDown, Notice, Notices
from services.outreach.campaigns import NotAllowedNow, next_state
from services.outreach.campaigns_store import CampaignNotFound, CampaignStore
from services.outreach.recalls_store import RecallStore
from services.runtime.grpcio import Servicer, errors_to_status

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Campaigns"].full_name
ERRORS = errors_to_status(
    {
        NotAllowedNow: grpc.StatusCode.FAILED_PRECONDITION,
        CampaignNotFound: grpc.StatusCode.NOT_FOUND,
        ChannelsDown: grpc.StatusCode.UNAVAILABLE,
    }
)
MOVES = ("test", "start", "pause", "resume")


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
    def __init__(self, campaigns: CampaignStore, recalls: RecallStore, notices: Notices):
        self.campaigns, self.recalls, self.notices = campaigns, recalls, notices

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

    @ERRORS
    async def GetCampaignProgress(self, request, context):
        return await self._progress(await _campaign_id(context, request.campaign_id))

    @ERRORS
    async def RecallTally(self, request, context):
        if not request.recall_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "recall_id is required")
        affected, notified = await self.recalls.tally(request.recall_id)
        return pb.RecallTallyResponse(recall_id=request.recall_id, affected=affected, notified=notified)

    async def _progress(self, campaign_id: str) -> pb.CampaignProgress:
        state = await self.campaigns.state(campaign_id)
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


def servicer(campaigns: CampaignStore, recalls: RecallStore, notices: Notices) -> Servicer:
    return Servicer(
        CampaignsApi(campaigns, recalls, notices),
        campaigns_pb2_grpc.add_CampaignsServicer_to_server,
        SERVICE_NAME,
    )
