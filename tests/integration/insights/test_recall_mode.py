"""Recall mode through the insights process: opened from the lot alert with `crs recall open`, published as
`recall_opened` with the fields outreach reads, found by product and lot, and closed."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import grpc
import pytest
from crs.insights.v1 import insights_pb2 as pb
from crs.insights.v1 import insights_pb2_grpc

from services.runtime import bus, grpcio
from services.runtime.events import Event
from services.runtime.principal import Principal
from tests.integration.insights.test_early_warning_end_to_end import (  # noqa: F401 (fixtures)
    crs,
    insights,
    insights_db,
    insights_vhost,
)
from tests.support import insights_scenario as scenario
from tests.support.wait import async_wait_for

SCRIPT = ("Please stop eating oat flakes from lot L3.", "We refund every pack, with or without a receipt.")
MESSAGE = "Do not eat Oat flakes 500 g from lot L3: small plastic pieces. We refund you in full."


async def _lot_alert(env) -> dict:
    async def listed():
        done = await asyncio.to_thread(crs, env, "insights", "alerts", "--json", "--as", "quinn")
        assert done.returncode == 0, done.stderr
        return next((a for a in json.loads(done.stdout) if a["lot_code"] == "L3"), None)

    return await async_wait_for(listed, timeout=60, interval=0.5, what="the lot alert")


async def test_sam_opens_a_recall_from_the_lot_alert_and_outreach_hears_of_it(
    insights,  # noqa: F811 (the fixture)
    insights_vhost,  # noqa: F811
    tmp_path,
):
    env = insights
    sales = tmp_path / "pos.csv"
    sales.write_text(scenario.sales_csv(date.today()))
    assert crs(env, "sales", "import", str(sales), "--as", "quinn").returncode == 0
    connection = await bus.connect(insights_vhost)
    try:
        channel = await connection.channel()
        heard = await channel.declare_queue(exclusive=True)
        exchange = await bus.declare_events_exchange(channel, "insights")
        for key in ("recall_opened", "recall_closed"):
            await heard.bind(exchange, routing_key=key)
        publisher = await bus.Publisher(connection, "contacts").open()
        for case in scenario.cases(date.today()):
            await publisher.publish(Event(source="contacts", type="contact_created", data={"case": case}))
        alert = await _lot_alert(env)

        opened = crs(
            env, "recall", "open", "--alert", alert["id"], "--region", "IL,WI", "--title", "Oat flakes lot L3",
            "--script", SCRIPT[0], "--script", SCRIPT[1], "--message", MESSAGE, "--reason", "plastic confirmed",
            "--as", "sam", "--role", "supervisor", "--json",
        )  # fmt: skip
        assert opened.returncode == 0, opened.stderr
        recall = json.loads(opened.stdout)
        assert (recall["sku"], recall["lot_codes"], recall["status"]) == ("OAT-500", ["L3"], "open")
        assert recall["script"] == list(SCRIPT)
        about_l3 = [
            c for c in scenario.cases(date.today())
            if (c["product"]["sku"], c["product"].get("lot_code")) == ("OAT-500", "L3")
        ]  # fmt: skip
        assert recall["contacts"] == len(about_l3) >= len(alert["contact_ids"])

        message = await async_wait_for(lambda: heard.get(fail=False), timeout=30, what="recall_opened")
        published = json.loads(message.body)
        assert published["type"] == "recall_opened"
        assert published["data"] == {
            "recall_id": recall["id"],
            "sku": "OAT-500",
            "lot_codes": ["L3"],
            "regions": ["IL", "WI"],
            "title": "Oat flakes lot L3",
            "opened_by": "sam",
            "opened_at": recall["opened_at"],
            "consumer_message": MESSAGE,
        }
        await message.ack()

        shown = await asyncio.to_thread(crs, env, "insights", "alerts", "--json", "--as", "quinn")
        assert next(a for a in json.loads(shown.stdout) if a["id"] == alert["id"])["status"] == "escalated"

        chan = grpcio.channel(env["CRS_INSIGHTS_GRPC"], default_deadline=10)
        stub = insights_pb2_grpc.InsightsStub(chan)
        ada = Principal("ada", "agent").metadata()
        try:
            bought = pb.FindRecallsRequest(products=[pb.ProductMention(sku="OAT-500", lot_code="L3")])
            found = await stub.FindRecalls(bought, metadata=ada)
            assert [(r.id, tuple(r.script)) for r in found.recalls] == [(recall["id"], SCRIPT)]
            other = pb.FindRecallsRequest(products=[pb.ProductMention(sku="OAT-500", lot_code="L1")])
            assert list((await stub.FindRecalls(other, metadata=ada)).recalls) == []
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.CloseRecall(pb.CloseRecallRequest(id=recall["id"], reason="no"), metadata=ada)
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        finally:
            await chan.close()

        listed = crs(env, "recall", "list", "--status", "open", "--json", "--as", "ada", "--role", "agent")
        assert [r["id"] for r in json.loads(listed.stdout)] == [recall["id"]]
        closed = crs(
            env, "recall", "close", recall["id"], "--reason", "stock withdrawn", "--as", "sam",
            "--role", "supervisor", "--json",
        )  # fmt: skip
        assert closed.returncode == 0, closed.stderr
        assert json.loads(closed.stdout)["status"] == "closed"
        message = await async_wait_for(lambda: heard.get(fail=False), timeout=30, what="recall_closed")
        assert json.loads(message.body)["type"] == "recall_closed"
        assert json.loads(message.body)["data"]["reason"] == "stock withdrawn"
    finally:
        await connection.close()
