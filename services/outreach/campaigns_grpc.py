"""The Campaigns gRPC service: moves and progress of campaigns, and the recall tally. No SQL here.

Permissions are checked by the server from the one table (services/runtime/permissions.py).
"""

from __future__ import annotations

import uuid

import grpc
from crs.outreach.v1 import campaigns_pb2 as pb
from crs.outreach.v1 import campaigns_pb2_grpc

from services.outreach.campaigns import NotAllowedNow
from services.outreach.campaigns_store import CampaignNotFound, CampaignStore
from services.outreach.recalls_store import RecallStore
from services.runtime.grpcio import Servicer, errors_to_status

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Campaigns"].full_name
ERRORS = errors_to_status(
    {NotAllowedNow: grpc.StatusCode.FAILED_PRECONDITION, CampaignNotFound: grpc.StatusCode.NOT_FOUND}
)
MOVES = ("test", "start", "pause", "resume")


async def _campaign_id(context, text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "campaign_id must be a UUID")


class CampaignsApi(campaigns_pb2_grpc.CampaignsServicer):
    def __init__(self, campaigns: CampaignStore, recalls: RecallStore):
        self.campaigns, self.recalls = campaigns, recalls

    @ERRORS
    async def MoveCampaign(self, request, context):
        campaign_id = await _campaign_id(context, request.campaign_id)
        if request.move not in MOVES:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"move is one of {', '.join(MOVES)}")
        if request.move == "test" and "@" not in request.test_to:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "a test send needs the address to send it to"
            )
        await self.campaigns.move(campaign_id, request.move, tested_to=request.test_to)
        return await self._progress(campaign_id)

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


def servicer(campaigns: CampaignStore, recalls: RecallStore) -> Servicer:
    return Servicer(
        CampaignsApi(campaigns, recalls), campaigns_pb2_grpc.add_CampaignsServicer_to_server, SERVICE_NAME
    )
