"""The Campaigns gRPC service on real PostgreSQL: a campaign moved through test, start, pause and resume
with its progress, refused moves, the recall tally, and an agent refused by the permission table."""

from __future__ import annotations

import uuid

import grpc
import pytest
from crs.outreach.v1 import campaigns_pb2 as pb
from crs.outreach.v1 import campaigns_pb2_grpc

from services.outreach import campaigns_grpc
from services.outreach.campaigns_store import CampaignStore
from services.outreach.recalls_store import RecallStore
from services.outreach.segments_store import SegmentStore
from services.runtime import grpcio, migrate
from services.runtime.db import open_pool
from services.runtime.principal import Principal
from tests.support import infra

MO = Principal("mo", "analyst").metadata()
ADA = Principal("ada", "agent").metadata()


@pytest.fixture(scope="module")
def outreach_db():
    name = infra.unique_name("crs_outreach_grpc")
    url = infra.create_database(name)
    try:
        migrate.migrate(url, "outreach")
        yield url
    finally:
        infra.drop_database(name)


class SendsRecorded:
    """Channels as the test send meets it: an address without a dot in its domain is refused."""

    def __init__(self):
        self.sent = []

    async def send(self, notices):
        self.sent += notices
        return ["." in n.to_address.rpartition("@")[2] for n in notices]


@pytest.fixture
async def api(outreach_db):
    pool = await open_pool(outreach_db, schema="outreach", max_size=3)
    campaigns = CampaignStore(pool)
    notices = SendsRecorded()
    server = grpcio.Server(
        [campaigns_grpc.servicer(campaigns, RecallStore(pool), notices, SegmentStore(pool))], "127.0.0.1:0"
    )
    port = await server.start()
    channel = grpcio.channel(f"127.0.0.1:{port}", default_deadline=10)
    try:
        yield campaigns_pb2_grpc.CampaignsStub(channel), campaigns, notices
    finally:
        await channel.close()
        await server.stop(0)
        await pool.close()


async def test_a_campaign_is_tested_started_paused_and_resumed_with_its_progress(api):
    stub, campaigns, notices = api
    cid = await campaigns.create(kind="marketing", name="Autumn", subject="s", body="b", created_by="mo")
    await campaigns.add_recipients(cid, [(str(uuid.uuid4()), f"p{i}@example.org", "UTC") for i in range(7)])

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.MoveCampaign(pb.MoveCampaignRequest(campaign_id=cid, move="start"), metadata=MO)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "a draft campaign cannot start" in refused.value.details()

    tested = await stub.MoveCampaign(
        pb.MoveCampaignRequest(campaign_id=cid, move="test", test_to="mo@example.org"), metadata=MO
    )
    assert (tested.state, tested.total, tested.remaining) == ("tested", 7, 7)
    [test] = notices.sent
    assert (test.to_address, test.subject, test.body) == ("mo@example.org", "[Test] s", "b")
    for move, state in (("start", "running"), ("pause", "paused"), ("resume", "running")):
        reply = await stub.MoveCampaign(pb.MoveCampaignRequest(campaign_id=cid, move=move), metadata=MO)
        assert reply.state == state
    shown = await stub.GetCampaignProgress(pb.GetCampaignProgressRequest(campaign_id=cid), metadata=MO)
    assert (shown.state, shown.sent, shown.remaining) == ("running", 0, 7)


async def test_bad_requests_get_clear_errors_and_an_agent_is_refused(api):
    stub, campaigns, _ = api
    draft = await campaigns.create(kind="marketing", name="Typo", subject="s", body="b", created_by="mo")
    cases = [
        (
            pb.MoveCampaignRequest(campaign_id=draft, move="test", test_to="mo@localhost"),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (pb.MoveCampaignRequest(campaign_id="nope", move="start"), grpc.StatusCode.INVALID_ARGUMENT),
        (pb.MoveCampaignRequest(campaign_id=str(uuid.uuid4()), move="start"), grpc.StatusCode.NOT_FOUND),
        (
            pb.MoveCampaignRequest(campaign_id=str(uuid.uuid4()), move="test"),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
    ]
    for request, code in cases:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.MoveCampaign(request, metadata=MO)
        assert refused.value.code() == code
    assert await campaigns.state(draft) == "draft"  # a refused test send tests nothing
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.RecallTally(pb.RecallTallyRequest(recall_id="RC-1"), metadata=ADA)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    tally = await stub.RecallTally(pb.RecallTallyRequest(recall_id="RC-1"), metadata=MO)
    assert (tally.affected, tally.notified) == (0, 0)
