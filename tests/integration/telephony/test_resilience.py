"""What a PBX, a scanner or an outage throws at telephony: garbage, scans, a dead broker, SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import wave
from urllib.parse import urlsplit

import pytest

from services.cli.call import CallPlan, free_udp_port, place_call, scenario, sipp_command
from services.telephony import sipmsg
from tests.integration.telephony.sipclient import SipClient
from tests.integration.telephony.stack import BusListener, TcpProxy, start_edge, start_telephony
from tests.sip.garbage import corpus
from tests.support.wait import wait_for

pytestmark = pytest.mark.sip


def test_garbage_gets_clear_replies_and_calls_still_work(telephony, edge, bus):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.3)
        replies = {}
        for name, datagram, _ in corpus():
            sock.sendto(datagram, ("127.0.0.1", telephony.sip_port))
            try:
                reply = sipmsg.parse(sock.recv(65535))
                replies[name] = reply.status
            except TimeoutError:
                replies[name] = None
        assert replies == {name: expected for name, _, expected in corpus()}
    assert telephony.process.alive()
    plan = CallPlan(number="+16145550123", extension="1003", seconds=1)
    assert place_call(plan, edge=edge).returncode == 0
    assert bus.wait_for(plan.call_id + "-1", "call_ended")["data"]["reason"] == "END_REASON_CALLER_HUNG_UP"
    wait_for(telephony.idle, timeout=10, what="no stuck call")


def test_a_sipvicious_scan_of_the_edge_leaves_calls_working(telephony, edge, bus, tmp_path):
    host, port = edge.split(":")
    scan_env = dict(os.environ, HOME=str(tmp_path))
    common = ["-p", port, "-P", str(free_udp_port()), "-t", "0.01"]
    found = subprocess.run(
        ["svmap", *common, host],
        env=scan_env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert f"{host}:{port}" in found.stdout, found.stdout + found.stderr
    for method in ("REGISTER", "INVITE", "OPTIONS"):
        subprocess.run(
            [
                "svwar",
                *common[:2],
                "-P",
                str(free_udp_port()),
                "-m",
                method,
                "-e",
                "100-400",
                "--force",
                host,
            ],
            env=scan_env,
            capture_output=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    plan = CallPlan(number="+16145550123", extension="2004", cancel_after=0.1)
    # pike may hold this address back for a few seconds after the scan; a call must then get through.
    wait_for(
        lambda: place_call(plan, edge=edge).returncode == 0,
        timeout=30,
        interval=1,
        what="a call after the scan",
    )
    assert bus.wait_for(plan.call_id + "-1", "call_ringing")["data"]["caller"]["number"] == "+16145550123"
    assert telephony.process.alive()
    wait_for(telephony.idle, timeout=10, what="no stuck call")


@pytest.fixture
def own_edge(tmp_path):
    process, address = start_edge(tmp_path)
    yield address
    process.stop()


def test_events_wait_for_the_broker_and_leave_in_order(tmp_path, own_edge, amqp_url):
    broker = urlsplit(amqp_url)
    proxy = TcpProxy((broker.hostname, broker.port or 5672))
    proxy.start()
    service = start_telephony(tmp_path, amqp_url=proxy.url(amqp_url), edge=own_edge)
    bus = BusListener(amqp_url)
    try:
        wait_for(lambda: service.metrics().get("crs_telephony_broker_connected") == 1, timeout=10)
        proxy.cut()
        wait_for(lambda: service.metrics().get("crs_telephony_broker_connected") == 0, timeout=10)
        plans = [CallPlan(number=f"+1614555010{n}", extension="2005", cancel_after=0.05) for n in range(3)]
        for plan in plans:
            assert place_call(plan, edge=own_edge).returncode == 0
        wait_for(lambda: service.metrics().get("crs_telephony_events_pending", 0) >= 6, timeout=10)
        assert not bus.poll()
        proxy.start()
        wait_for(lambda: len(bus.poll()) >= 6, timeout=30, what="buffered events after the broker returned")
        order = [(e["correlationid"], e["type"]) for e in bus.received]
        assert order == [(p.call_id + "-1", t) for p in plans for t in ("call_ringing", "call_ended")]
    finally:
        bus.close()
        proxy.cut()
        service.process.stop()


def test_events_unsent_at_shutdown_are_sent_by_the_next_run(tmp_path, own_edge, amqp_url):
    broker = urlsplit(amqp_url)
    proxy = TcpProxy((broker.hostname, broker.port or 5672))
    proxy.start()
    spool = tmp_path / "unsent.jsonl"
    first = start_telephony(
        tmp_path,
        amqp_url=proxy.url(amqp_url),
        edge=own_edge,
        CRS_TELEPHONY_EVENT_SPOOL=str(spool),
        CRS_TELEPHONY_FLUSH_SECONDS="1",
    )
    bus = BusListener(amqp_url)
    try:
        wait_for(lambda: first.metrics().get("crs_telephony_broker_connected") == 1, timeout=10)
        proxy.cut()
        plans = [CallPlan(number=f"+1614555020{n}", extension="2006", cancel_after=0.05) for n in range(2)]
        for plan in plans:
            assert place_call(plan, edge=own_edge).returncode == 0
        assert first.process.stop() == 0
        assert spool.exists()
        second = start_telephony(
            tmp_path, amqp_url=amqp_url, edge=own_edge, CRS_TELEPHONY_EVENT_SPOOL=str(spool)
        )
        try:
            wait_for(lambda: len(bus.poll()) >= 4, timeout=20, what="the spooled events")
            order = [(e["correlationid"], e["type"]) for e in bus.received]
            assert order == [(p.call_id + "-1", t) for p in plans for t in ("call_ringing", "call_ended")]
            assert not spool.exists()
        finally:
            second.process.stop()
    finally:
        bus.close()
        proxy.cut()
        first.process.stop()


def test_sigterm_hangs_up_stores_the_recording_and_flushes(tmp_path, own_edge, amqp_url):
    service = start_telephony(tmp_path, amqp_url=amqp_url, edge=own_edge)
    bus = BusListener(amqp_url)
    plan = CallPlan(number="+16145550123", extension="1001", seconds=30)
    scenario_file = tmp_path / "long.xml"
    scenario_file.write_text(scenario(plan))
    sipp = subprocess.Popen(
        sipp_command(plan, scenario_file=str(scenario_file), edge=own_edge),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    call_id = plan.call_id + "-1"
    try:
        bus.wait_for(call_id, "call_answered")
        wait_for(
            lambda: service.metrics().get("crs_telephony_rtp_packets_recorded_total", 0) > 10, timeout=10
        )
        service.process.popen.send_signal(signal.SIGTERM)
        assert service.process.popen.wait(30) == 0, service.process.log()
        ended = bus.wait_for(call_id, "call_ended")["data"]
        assert ended["reason"] == "END_REASON_COMPLETED"
        with wave.open(str(service.recordings / ended["recording_key"]), "rb") as recording:
            assert recording.getnframes() > 0
    finally:
        bus.close()
        if sipp.poll() is None:
            sipp.send_signal(signal.SIGTERM)
            sipp.wait(10)
        service.process.stop()


def test_a_call_is_hung_up_at_its_time_limit(tmp_path, own_edge, amqp_url):
    service = start_telephony(tmp_path, amqp_url=amqp_url, edge=own_edge, CRS_MAX_CALL_SECONDS="1")
    bus = BusListener(amqp_url)
    plan = CallPlan(number="+16145550123", extension="1001", seconds=20)
    scenario_file = tmp_path / "long.xml"
    scenario_file.write_text(scenario(plan))
    sipp = subprocess.Popen(
        sipp_command(plan, scenario_file=str(scenario_file), edge=own_edge),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        ended = bus.wait_for(plan.call_id + "-1", "call_ended", timeout=15)["data"]
        assert ended["reason"] == "END_REASON_COMPLETED"
        assert 0.9 <= ended["duration_seconds"] <= 3
        wait_for(service.idle, timeout=10, what="nothing left of the call")
    finally:
        bus.close()
        if sipp.poll() is None:
            sipp.send_signal(signal.SIGTERM)
            sipp.wait(10)
        service.process.stop()


def test_two_telephony_processes_registered_at_once_ring_each_call_once(tmp_path, own_edge, amqp_url):
    first = start_telephony(tmp_path, amqp_url=amqp_url, edge=own_edge)
    second = start_telephony(tmp_path, amqp_url=amqp_url, edge=own_edge)
    bus = BusListener(amqp_url)
    try:
        plans = [CallPlan(number="+16145550123", extension="2002", cancel_after=0.05) for _ in range(6)]
        for plan in plans:
            assert place_call(plan, edge=own_edge).returncode == 0
        for plan in plans:
            call_id = plan.call_id + "-1"
            bus.wait_for(call_id, "call_ended")
            assert [e["type"] for e in bus.of_call(call_id)] == ["call_ringing", "call_ended"]
        # One of them leaves (deregisters on SIGTERM): the other takes the calls at once.
        assert second.process.stop() == 0, second.process.log()[-3000:]
        plan = CallPlan(number="+16145550123", extension="2002", cancel_after=0.05)
        assert place_call(plan, edge=own_edge).returncode == 0
        assert bus.wait_for(plan.call_id + "-1", "call_ringing")["data"]["extension"] == "2002"
    finally:
        bus.close()
        second.process.stop()
        assert first.process.stop() == 0, first.process.log()[-3000:]


def test_a_full_event_buffer_answers_new_calls_503_through_the_edge(tmp_path, own_edge, amqp_url):
    broker = urlsplit(amqp_url)
    proxy = TcpProxy((broker.hostname, broker.port or 5672))
    proxy.start()
    proxy.cut()  # the broker is away from the start: events wait in the buffer
    service = start_telephony(
        tmp_path, amqp_url=proxy.url(amqp_url), edge=own_edge, CRS_TELEPHONY_EVENT_BUFFER="2",
        CRS_TELEPHONY_FLUSH_SECONDS="0.5",
    )  # fmt: skip
    client = SipClient(own_edge)
    try:
        _, first = client.invite(number="+16145550123", extension="2002")
        assert 180 in first.statuses
        assert 487 in client.cancel().statuses  # ringing + ended: the buffer of 2 is full
        wait_for(lambda: service.metrics().get("crs_telephony_events_pending") == 2, timeout=5)
        _, refused = client.invite(number="+16145550123", extension="2002")
        assert refused.final.status == 503, refused.statuses
        assert refused.final.reason == "Event Buffer Full"
        assert refused.final.get("Retry-After") == "5"
    finally:
        client.close()
        proxy.cut()
        service.process.stop()
