"""Issue 17 end to end: sales imported with `crs sales import`, twelve back-dated weeks of complaints and a
cluster on one lot published as casework publishes them, and the alert read with `crs insights alerts`."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import date

import pytest

from services.runtime import bus
from services.runtime.events import Event
from tests.support import insights_scenario as scenario
from tests.support.processes import ServiceProcess, free_port
from tests.support.wait import async_wait_for


def crs(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def insights(service_env):
    port = free_port()
    env = dict(
        service_env,
        CRS_INSIGHTS_GRPC=f"127.0.0.1:{port}",
        CRS_INSIGHTS_RECOMPUTE_SECONDS="10",
        # `crs ... --as USER` acts for a person from the "cli" identity; this deployment trusts it to.
        CRS_PRINCIPAL_ISSUERS="console,cli",
    )
    service = ServiceProcess("services.insights", env).start(wait_port=port)
    yield env
    assert service.stop() == 0, service.output()


async def test_a_lot_cluster_is_alerted_with_its_lot_and_the_best_seller_and_spam_are_not(
    insights, amqp_url, tmp_path
):
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
