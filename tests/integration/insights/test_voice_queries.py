"""The dashboard's gRPC queries on a database of their own: issue 17's scenario and a few compliments,
taken as casework's events, read back through GetVolumes, GetRisingIssues, GetCpmuTrend and
ListSliceContacts, as the console calls them for a supervisor, and refused to an agent."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta

import grpc
import pytest
from crs.insights.v1 import insights_pb2 as pb
from crs.insights.v1 import insights_pb2_grpc

from services.insights import grpc_api
from services.insights.service import Insights, Received
from services.insights.store import SqlStore
from services.runtime import grpcio
from services.runtime.db import open_pool
from services.runtime.principal import Principal
from tests.support import infra
from tests.support import insights_scenario as scenario

SAM = Principal("sam", "supervisor").metadata()
ADA = Principal("ada", "agent").metadata()


@pytest.fixture(scope="module")
def voice_db():
    """Its own database: the figures are counts of every contact insights holds."""
    with infra.migrated_database("crs_insights_voice") as url:
        yield url


@pytest.fixture(scope="module")
async def stub(voice_db):
    today = date.today()
    pool = await open_pool(voice_db, schema="insights", max_size=3)
    insights = Insights(SqlStore(pool))
    rows = list(csv.DictReader(io.StringIO(scenario.sales_csv(today))))
    await insights.import_sales(rows, source="pos.csv", actor="quinn", role="analyst")
    cases = [
        *scenario.cases(today),
        scenario.case("OAT-500", "L1", "compliment.product", today),
        scenario.case("CRN-1000", "B1", "compliment.product", today),
        scenario.case("CRN-1000", "B2", "compliment.service", today),
    ]
    for case in cases:
        event = Received(str(uuid.uuid4()), "contacts", "contact_created", datetime.now(UTC), {"case": case})
        assert await insights.take(event)
        assert not await insights.take(event), "the same event twice counts once"
    server = grpcio.Server([grpc_api.servicer(insights)], "127.0.0.1:0")
    port = await server.start()
    channel = grpcio.channel(f"127.0.0.1:{port}", default_deadline=30)
    try:
        yield insights_pb2_grpc.InsightsStub(channel), cases
    finally:
        await channel.close()
        await server.stop(0)
        await pool.close()


def this_week() -> str:
    today = date.today()
    return (today - timedelta(days=today.weekday())).isoformat()


async def test_volumes_and_praise_count_the_contacts_taken_by_week(stub):
    stub, _ = stub
    reply = await stub.GetVolumes(pb.GetVolumesRequest(by="product", weeks=13), metadata=SAM)
    assert list(reply.keys) == ["CRN-1000", "OAT-500", "TEA-20"]
    assert len(reply.weeks) == 13 and reply.weeks[-1] == this_week()
    week = {p.key: p.contacts for p in reply.points if p.week == this_week()}
    # CRN-1000: eight a week and two compliments; TEA-20: the three spam submissions, counted as they came.
    assert week["CRN-1000"] == 10 and week["TEA-20"] == 3
    praise = await stub.GetVolumes(
        pb.GetVolumesRequest(by="product", weeks=13, issue_code="compliment"), metadata=SAM
    )
    assert {(p.key, p.contacts) for p in praise.points if p.contacts} == {("CRN-1000", 2), ("OAT-500", 1)}


async def test_the_lot_cluster_is_the_most_unusual_rising_issue(stub):
    stub, _ = stub
    reply = await stub.GetRisingIssues(pb.GetRisingIssuesRequest(limit=5), metadata=SAM)
    assert reply.threshold == 5.0
    first = reply.issues[0]
    assert (first.sku, first.issue_code, first.alarming) == ("OAT-500", scenario.PLASTIC, True)
    assert first.observed == scenario.CLUSTER and first.score >= reply.threshold
    assert [i.score for i in reply.issues] == sorted((i.score for i in reply.issues), reverse=True)


async def test_the_cpmu_trend_carries_the_limits_and_marks_the_cluster_week(stub):
    stub, _ = stub
    reply = await stub.GetCpmuTrend(pb.GetCpmuTrendRequest(sku="OAT-500", weeks=13), metadata=SAM)
    (trend,) = reply.products
    assert trend.sku == "OAT-500" and not trend.no_sales
    last = trend.points[-1]
    assert last.week == this_week() and last.above
    assert last.cpmu > last.upper_cpmu > last.expected_cpmu > 0
    assert [p.week for p in trend.points if p.above] == [this_week()]


async def test_a_point_opens_onto_its_contacts_by_id_and_coded_facts_alone(stub):
    stub, cases = stub
    cluster = {
        c["id"] for c in cases if c["product"]["lot_code"] == "L3" and c["issue_code"] == scenario.PLASTIC
    }
    end = (date.fromisoformat(this_week()) + timedelta(days=6)).isoformat()
    where = pb.Slice(
        sku="OAT-500",
        lot_code="L3",
        issue_code="complaint.quality.foreign_object",
        start=this_week(),
        end=end,
    )
    reply = await stub.ListSliceContacts(pb.ListSliceContactsRequest(slice=where), metadata=SAM)
    assert reply.total == scenario.CLUSTER
    assert {c.contact_id for c in reply.contacts} == cluster
    assert {(c.sku, c.lot_code, c.region, c.channel) for c in reply.contacts} == {
        ("OAT-500", "L3", "IL", "phone")
    }
    assert set(pb.SliceContact.DESCRIPTOR.fields_by_name) == {
        "contact_id", "sku", "lot_code", "region", "issue_code", "channel", "received_on",
    }  # fmt: skip


async def test_an_agent_is_refused_and_a_malformed_query_is_told_why(stub):
    stub, _ = stub
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.GetVolumes(pb.GetVolumesRequest(by="product"), metadata=ADA)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.GetVolumes(pb.GetVolumesRequest(by="colour"), metadata=SAM)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "by: one of issue, product, region, channel" in refused.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ListSliceContacts(
            pb.ListSliceContactsRequest(slice=pb.Slice(start="last week")), metadata=SAM
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
