"""`crs cases regulatory-export CASE` against a contacts process: the fields of the case's regime's form as
CSV or JSON for a supervisor, and a refusal naming the permission for an agent."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from crs.contacts.v1 import casework_pb2 as pb

from services.runtime import grpcio
from tests.integration.contacts.case_support import Caller
from tests.support.processes import ServiceProcess, free_port


@pytest.fixture(scope="module")
def contacts_process(service_env):
    grpc_port, http_port, metrics_port = free_port(), free_port(), free_port()
    env = dict(
        service_env,
        CRS_CONTACTS_GRPC=f"127.0.0.1:{grpc_port}",
        CRS_CONTACTS_HTTP=f"127.0.0.1:{http_port}",
        CRS_CONTACTS_METRICS_PORT=str(metrics_port),
        # `crs ... --as USER` acts for a person from the "cli" identity; this deployment trusts it to.
        CRS_PRINCIPAL_ISSUERS="console,cli",
    )
    service = ServiceProcess("services.contacts", env).start(wait_port=grpc_port)
    yield env, f"127.0.0.1:{grpc_port}"
    assert service.stop() == 0


def crs(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


async def test_a_supervisor_exports_the_cpsc_forms_fields_and_an_agent_is_refused(contacts_process):
    env, target = contacts_process
    received = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
    async with grpcio.channel(target) as channel:
        stamp = pb.Case().occurred_at
        stamp.FromDatetime(received)
        case = await Caller(channel, "alice", extension="1001").capture(
            issue_code="complaint.illness_injury.injury",
            verbatim="The blender lid flew off and cut my hand.",
            product=pb.Product(
                sku="BL-900", name="Blender 900", lot_code="B77", purchase_store="Hardware Hut"
            ),
            occurred_at=stamp,
        )
    done = crs(env, "cases", "regulatory-export", case.id, "--as", "sam")
    assert done.returncode == 0, done.stderr
    rows = dict(csv.reader(io.StringIO(done.stdout)))
    assert (rows["regime"], rows["form"], rows["report_state"]) == (
        "cpsc_15b",
        "CPSC Section 15(b) report",
        "on_time",
    )
    assert (rows["product.lot_code"], rows["product.purchase_store"]) == ("B77", "Hardware Hut")
    assert rows["report_due_at"] == (received + timedelta(hours=24)).isoformat().replace("+00:00", "Z")
    as_json = json.loads(
        crs(env, "cases", "regulatory-export", case.id, "--format", "json", "--as", "sam").stdout
    )
    assert as_json["clock"]["deadline"] == "24 hours"
    refused = crs(env, "cases", "regulatory-export", case.id, "--as", "alice", "--role", "agent")
    assert refused.returncode == 1
    assert "regulatory.export" in refused.stderr
