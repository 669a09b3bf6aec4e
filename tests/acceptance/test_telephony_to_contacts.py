"""Acceptance: `crs call` from a known consumer's number ends as a filed call on the consumer whose recording
holds what was recorded: edge, telephony, RabbitMQ, contacts and PostgreSQL as real processes. (People play
it through the console, which checks their session: tests/acceptance/test_screenpop_browser.py.)"""

from __future__ import annotations

import subprocess
import sys
import wave
from io import BytesIO

import pytest
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc, contacts_pb2, contacts_pb2_grpc

from services.runtime import grpcio, recordings
from tests.integration.telephony.stack import start_edge, start_telephony
from tests.support import infra
from tests.support.processes import ServiceProcess, free_port
from tests.support.wait import wait_for

pytestmark = pytest.mark.sip


@pytest.fixture(scope="module")
def own_vhost():
    """A vhost of its own: a contacts consumer elsewhere in the session (an in-process fixture) would
    otherwise share the call_ended queue with this module's contacts and take its calls."""
    with infra.own_vhost("crs-telephony-contacts") as url:
        yield url


@pytest.fixture(scope="module")
def system(tmp_path_factory, service_env, own_vhost):
    tmp = tmp_path_factory.mktemp("telephony-contacts")
    recordings_url = (tmp / "recordings").as_uri()
    grpc_port, http_port = free_port(), free_port()
    env = dict(
        service_env,
        CRS_RECORDINGS_URL=recordings_url,
        CRS_CONTACTS_GRPC=f"127.0.0.1:{grpc_port}",
        CRS_CONTACTS_HTTP=f"127.0.0.1:{http_port}",
        CRS_CONTACTS_METRICS_PORT="0",
        CRS_AMQP_URL=own_vhost,
    )
    contacts = ServiceProcess("services.contacts", env).start(wait_port=grpc_port)
    edge_process, edge = start_edge(tmp)
    telephony = start_telephony(tmp, amqp_url=own_vhost, edge=edge, CRS_RECORDINGS_URL=recordings_url)
    yield env, edge, grpc_port
    # A crash or an unclean drain of any of the three fails the teardown (contacts' stop() raises).
    codes = {"telephony": telephony.process.stop(), "edge": edge_process.stop()}
    contacts.stop()
    assert codes == {"telephony": 0, "edge": 0}, telephony.process.log()[-3000:] + edge_process.log()[-2000:]


def crs(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_a_call_lands_on_the_consumer_with_a_recording_that_plays(system):
    env, edge, grpc_port = system
    added = crs(env, "consumer", "add", "--name", "Carla Caller", "--phone", "+1 614 555 0177")
    assert added.returncode == 0, added.stderr
    consumer_id = added.stdout.strip()

    called = crs(
        dict(env, CRS_SIP_EDGE=edge), "call", "--from", "+1 614 555 0177", "--to", "1001", "--seconds", "2"
    )
    assert called.returncode == 0, called.stderr
    call_id = called.stdout.split()[1]

    with grpcio.blocking_channel(f"127.0.0.1:{grpc_port}") as channel:
        contacts = contacts_pb2_grpc.ContactsStub(channel)

        def filed():
            response = contacts.ListRecentContacts(
                contacts_pb2.ListRecentContactsRequest(consumer_id=consumer_id, limit=5)
            )
            return [c for c in response.contacts if c.call_id == call_id]

        contact = wait_for(filed, timeout=30, what="the call contact on the consumer")[0]
        call = casework_pb2_grpc.CaseworkStub(channel).GetCall(
            casework_pb2.GetCallRequest(call_id=call_id), timeout=5
        )
    assert contact.channel == "phone"
    assert 1.5 <= contact.duration_seconds <= 4
    assert (call.consumer_id, call.caller_number) == (consumer_id, "+16145550177")
    assert call.recording_key.endswith(".wav")

    audio = recordings.store_from_url(env["CRS_RECORDINGS_URL"]).get(call.recording_key)
    with wave.open(BytesIO(audio)) as recording:
        assert recording.getframerate() == 8000 and recording.getnframes() >= 8000 * 1.5
