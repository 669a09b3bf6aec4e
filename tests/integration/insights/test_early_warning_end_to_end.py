"""Issue 17 end to end: sales imported with `crs sales import`, twelve back-dated weeks of complaints and a
cluster on one lot published as casework publishes them, and the alert read with `crs insights alerts`."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from datetime import date

import grpc
import pytest
from crs.insights.v1 import insights_pb2 as pb
from crs.insights.v1 import insights_pb2_grpc

from services.insights.service import Insights
from services.insights.store import SqlStore
from services.runtime import bus, grpcio
from services.runtime.db import connect, open_pool
from services.runtime.events import Event
from services.runtime.principal import Principal
from tests.support import infra
from tests.support import insights_scenario as scenario
from tests.support.processes import ServiceProcess, free_port
from tests.support.wait import async_wait_for

QUINN = Principal("quinn", "analyst").metadata()


def crs(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def insights_db():
    """A database of its own: insights counts every case it is told of, so cases other tests in the session
    capture would otherwise raise alerts of their own here."""
    with infra.migrated_database("crs_insights") as url:
        yield url


@pytest.fixture(scope="module")
def insights_vhost():
    """A vhost of its own, for the same reason: no other test's case events reach this insights."""
    with infra.own_vhost("crs-insights") as url:
        yield url


@pytest.fixture(scope="module")
def insights(service_env, insights_db, insights_vhost):
    port = free_port()
    env = dict(
        service_env,
        CRS_DATABASE_URL=insights_db,
        CRS_AMQP_URL=insights_vhost,
        CRS_INSIGHTS_GRPC=f"127.0.0.1:{port}",
        CRS_INSIGHTS_RECOMPUTE_SECONDS="10",
        # `crs ... --as USER` acts for a person from the "cli" identity; this deployment trusts it to.
        CRS_PRINCIPAL_ISSUERS="console,cli",
    )
    service = ServiceProcess("services.insights", env).start(wait_port=port)
    yield env
    assert service.stop() == 0, service.output()


async def test_a_lot_cluster_is_alerted_with_its_lot_and_the_best_seller_and_spam_are_not(
    insights, insights_vhost, tmp_path
):
    amqp_url = insights_vhost
    today = date.today()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "sku,lot_code,region,period_start,period_end,units\nOAT-500,L1,IL,2026-01-01,2025-12-01,x\n"
    )
    refused = crs(insights, "sales", "import", str(bad), "--as", "quinn")
    assert refused.returncode == 1
    assert "line 2: period_end 2025-12-01 is before period_start 2026-01-01" in refused.stderr

    sales = tmp_path / "pos.csv"
    sales.write_text(scenario.sales_csv(today))
    imported = crs(insights, "sales", "import", str(sales), "--as", "quinn")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "imported 9 sales lines"

    connection = await bus.connect(amqp_url)
    try:
        channel = await connection.channel()
        raised_queue = await channel.declare_queue(exclusive=True)
        await raised_queue.bind(
            await bus.declare_events_exchange(channel, "insights"), routing_key="alert_raised"
        )
        publisher = await bus.Publisher(connection, "contacts").open()
        for case in scenario.cases(today):
            await publisher.publish(Event(source="contacts", type="contact_created", data={"case": case}))

        async def listed():
            done = await asyncio.to_thread(crs, insights, "insights", "alerts", "--json", "--as", "quinn")
            assert done.returncode == 0, done.stderr
            found = json.loads(done.stdout)
            return found if any(a["lot_code"] == "L3" for a in found) else None

        alerts = await async_wait_for(listed, timeout=60, interval=0.5, what="the lot alert")
        lot_alert = next(a for a in alerts if a["lot_code"] == "L3")
        assert {k: lot_alert[k] for k in ("sku", "lot_code", "region", "issue_code", "method", "status")} == {
            "sku": "OAT-500",
            "lot_code": "L3",
            "region": "",
            "issue_code": "complaint.quality.foreign_object.plastic",
            "method": "lot_poisson_bh",
            "status": "new",
        }
        assert lot_alert["observed"] == 8.0
        assert len(lot_alert["contact_ids"]) == 8
        assert {a["sku"] for a in alerts} == {"OAT-500"}, "the best-seller and the spam raise nothing"

        message = await async_wait_for(lambda: raised_queue.get(fail=False), timeout=30, what="alert_raised")
        published = json.loads(message.body)
        assert published["type"] == "alert_raised"
        assert published["data"]["alert"]["sku"] == "OAT-500"
    finally:
        await connection.close()

    figures = crs(insights, "insights", "cpmu", "--as", "quinn")
    assert figures.returncode == 0, figures.stderr
    assert (
        figures.stdout.splitlines()[0]
        == "sku,lot_code,region,period,contacts,contacts_counted,units,cpmu,no_sales"
    )
    assert "CRN-1000,,,,104.0,104,10000000,10.4,False" in figures.stdout.splitlines()
    moved = crs(
        insights,
        "insights",
        "move",
        lot_alert["id"],
        "acknowledged",
        "--reason",
        "QA has it",
        "--as",
        "quinn",
    )
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip() == f"{lot_alert['id']} is acknowledged"
    refused = crs(
        insights,
        "insights",
        "move",
        lot_alert["id"],
        "closed",
        "--reason",
        "x",
        "--as",
        "sam",
        "--role",
        "supervisor",
    )
    assert refused.returncode == 1
    assert "needs the permission insights.manage" in refused.stderr


async def test_the_api_refuses_bad_sales_line_by_line_and_callers_without_the_permission(insights):
    chan = grpcio.channel(insights["CRS_INSIGHTS_GRPC"], default_deadline=30)
    stub = insights_pb2_grpc.InsightsStub(chan)
    try:
        bad = pb.ImportSalesRequest(
            rows=[
                pb.SalesRow(
                    sku="OAT-500", region="IL", period_start="2026-11-01", period_end="2026-11-30", units=5
                ),
                pb.SalesRow(
                    sku="OAT 500", region="IL", period_start="2026-11-01", period_end="2026-11-30", units=5
                ),
                pb.SalesRow(
                    sku="OAT-500", region="", period_start="2026-11-01", period_end="2026-11-30", units=5
                ),
            ]
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ImportSales(bad, metadata=QUINN)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.value.details() == (
            "line 3: sku must be a product code, not 'OAT 500'\nline 4: region is required (at most 64 characters)"
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ListAlerts(pb.ListAlertsRequest(), metadata=Principal("ada", "agent").metadata())
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.MoveAlert(
                pb.MoveAlertRequest(id=str(uuid.uuid4()), status="closed", reason="no"),
                metadata=Principal("sam", "supervisor").metadata(),
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.GetAlert(pb.GetAlertRequest(id=str(uuid.uuid4())), metadata=QUINN)
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        await chan.close()


async def test_the_read_model_rebuilds_from_the_event_log_and_a_redelivered_event_counts_once(
    insights, insights_vhost, insights_db
):
    amqp_url = insights_vhost
    database_url = insights_db
    today = date.today()
    connection = await bus.connect(amqp_url)
    try:
        publisher = await bus.Publisher(connection, "contacts").open()
        case = scenario.case("GUM-1", "G1", scenario.TASTE, today)
        once = Event(source="contacts", type="contact_created", data={"case": case})
        await publisher.publish(once)
        await publisher.publish(once)
    finally:
        await connection.close()

    def logged():
        with connect(database_url, schema="insights") as conn:
            return conn.execute(
                "SELECT count(*) FROM event_log WHERE data->>'contact_id' = %s", (case["id"],)
            ).fetchone()[0]

    await async_wait_for(lambda: asyncio.to_thread(logged), timeout=30, what="the event logged")
    pool = await open_pool(database_url, schema="insights", max_size=2)
    try:
        store = SqlStore(pool)
        before = sorted(f.contact_id for f in await store.contacts())
        with connect(database_url, schema="insights") as conn:
            # Every logged event that carried a contact, earlier tests' included (a contact may have several).
            readable = conn.execute("SELECT count(*) FROM event_log WHERE data <> '{}'::jsonb").fetchone()[0]
        rebuilt = await Insights(store).rebuild()
        assert rebuilt == readable
        assert sorted(f.contact_id for f in await store.contacts()) == before
        assert before.count(case["id"]) == 1
    finally:
        await pool.close()
    assert logged() == 1


PERSONAL = ("Jo Bloggs", "jo@example.com", "+15555550100", "a sharp blue shard")


async def test_insights_stores_nothing_of_the_person_and_still_rebuilds(
    insights, insights_vhost, insights_db
):
    amqp_url = insights_vhost
    database_url = insights_db
    case = scenario.case("GUM-2", "G7", scenario.TASTE, date.today())
    case["reporter"] = {"name": "Jo Bloggs", "email": "jo@example.com", "phone": "+15555550100"}
    case["verbatim"] = "Jo Bloggs here: a sharp blue shard, call me on +15555550100"
    case["notes"] = "called back on +15555550100, jo@example.com"
    resolved = {**case, "version": 2, "status": "CASE_STATUS_RESOLVED"}
    connection = await bus.connect(amqp_url)
    try:
        publisher = await bus.Publisher(connection, "contacts").open()
        await publisher.publish(Event(source="contacts", type="contact_created", data={"case": case}))
        await publisher.publish(Event(source="contacts", type="contact_resolved", data={"case": resolved}))
    finally:
        await connection.close()

    def stored() -> tuple[int, str]:
        with connect(database_url, schema="insights") as conn:
            logged = conn.execute(
                "SELECT count(*) FROM event_log WHERE data->>'contact_id' = %s", (case["id"],)
            ).fetchone()[0]
            everything = conn.execute(
                "SELECT coalesce(string_agg(row_to_json(e)::text, ' '), '') FROM event_log e"
                " UNION ALL SELECT coalesce(string_agg(row_to_json(c)::text, ' '), '') FROM contact c"
            ).fetchall()
            return logged, " ".join(row[0] for row in everything)

    await async_wait_for(
        lambda: asyncio.to_thread(lambda: stored()[0] == 2 or None), timeout=30, what="both events logged"
    )
    _, text = stored()
    assert case["id"] in text
    assert [p for p in (*PERSONAL, case["consumer_id"]) if p in text] == []

    pool = await open_pool(database_url, schema="insights", max_size=2)
    try:
        store = SqlStore(pool)
        await Insights(store).rebuild()
        (rebuilt,) = [f for f in await store.contacts() if f.contact_id == case["id"]]
        assert (rebuilt.sku, rebuilt.lot_code, rebuilt.region, rebuilt.issue_code) == (
            "GUM-2",
            "G7",
            "IL",
            "complaint.quality.taste",
        )
        assert rebuilt.consumer_on_file is True
    finally:
        await pool.close()
