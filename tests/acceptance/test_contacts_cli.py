"""The contacts service as an operator meets it: a real process, driven by the `crs` command."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from services.runtime import grpcio
from tests.support.held import table_held
from tests.support.processes import ServiceProcess, free_port, listening
from tests.support.wait import wait_for


@pytest.fixture(scope="module")
def contacts_process(service_env):
    grpc_port, http_port, metrics_port = free_port(), free_port(), free_port()
    env = dict(
        service_env,
        CRS_CONTACTS_GRPC=f"127.0.0.1:{grpc_port}",
        CRS_CONTACTS_HTTP=f"127.0.0.1:{http_port}",
        CRS_CONTACTS_METRICS_PORT=str(metrics_port),
        # Reflection is off unless a developer turns it on, as here.
        CRS_GRPC_REFLECTION="on",
    )
    service = ServiceProcess("services.contacts", env).start(wait_port=grpc_port)
    yield service, env, grpc_port, metrics_port
    assert service.stop() == 0


def crs(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_consumer_added_with_the_cli_is_found_from_every_spelling(contacts_process):
    _, env, _, _ = contacts_process
    added = crs(
        env,
        "consumer",
        "add",
        "--name",
        "Dora Demo",
        "--phone",
        "+1 614 555 0123",
        "--email",
        "dora@example.com",
    )
    assert added.returncode == 0, added.stderr
    consumer_id = added.stdout.strip()
    for spelling, region in [
        ("+16145550123", "US"),
        ("(614) 555-0123", "US"),
        ("+1 614-555-0123", "US"),
        ("00 1 614 555 0123", "FR"),
    ]:
        matched = crs(env, "consumer", "match", spelling, "--region", region, "--json")
        assert matched.returncode == 0, matched.stderr
        answer = json.loads(matched.stdout)
        assert answer["number_e164"] == "+16145550123"
        assert answer["withheld"] is False
        assert {"consumer_id": consumer_id, "name": "Dora Demo", "match": "exact"} in [
            {k: c[k] for k in ("consumer_id", "name", "match")} for c in answer["candidates"]
        ]


def test_the_cli_reports_bad_input_and_a_missing_service_plainly(contacts_process):
    _, env, _, _ = contacts_process
    refused = crs(env, "consumer", "add", "--name", "", "--phone", "+1 614 555 0124")
    assert refused.returncode == 1
    assert "invalid argument: name" in refused.stderr
    nowhere = dict(env, CRS_CONTACTS_GRPC=f"127.0.0.1:{free_port()}")
    unreachable = crs(nowhere, "consumer", "match", "+16145550123", "--json")
    assert unreachable.returncode == 1
    assert "does not answer" in unreachable.stderr


def test_health_and_reflection_answer_when_a_developer_turns_reflection_on(contacts_process):
    _, _, port, _ = contacts_process
    with grpcio.blocking_channel(f"127.0.0.1:{port}") as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="crs.contacts.v1.Contacts"), timeout=5
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        responses = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        names = {s.name for r in responses for s in r.list_services_response.service}
    assert {"crs.contacts.v1.Contacts", "grpc.health.v1.Health"} <= names


def test_sigterm_lets_a_call_in_flight_finish_then_exits_cleanly(service_env, database_url):
    port = free_port()
    env = dict(
        service_env, CRS_CONTACTS_GRPC=f"127.0.0.1:{port}", CRS_CONTACTS_HTTP=f"127.0.0.1:{free_port()}"
    )
    service = ServiceProcess("services.contacts", env).start(wait_port=port)
    with table_held(database_url, "contacts.phone_number") as held:
        lookup = subprocess.Popen(
            [sys.executable, "-m", "services.cli.main", "consumer", "match", "+16145550199", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for(held.waiting, timeout=15, what="the lookup to reach the database and wait there")
        service.process.send_signal(signal.SIGTERM)
        wait_for(lambda: not listening(port), timeout=15, what="contacts to stop taking new calls")
        assert lookup.poll() is None, "the call in flight ended before its query could run"
    out, err = lookup.communicate(timeout=30)
    assert lookup.returncode == 0, err
    assert json.loads(out)["number_e164"] == "+16145550199"
    service.process.wait(timeout=15)  # the one SIGTERM above: a second would cut the exit short
    assert service.stop() == 0
    assert "contacts stopped" in service.output()


def test_metrics_count_the_calls_served(contacts_process):
    import urllib.request

    _, env, _, metrics_port = contacts_process
    assert crs(env, "consumer", "match", "+16145550123", "--json").returncode == 0
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    served = [
        line
        for line in text.splitlines()
        if line.startswith("crs_grpc_server_handling_seconds_count")
        and "MatchCaller" in line
        and 'code="OK"' in line
    ]
    assert served and float(served[0].rsplit(" ", 1)[1]) >= 1
