"""`crs run`: every service starts and answers its health check; SIGTERM stops them all; a crash stops the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.cli.call import free_udp_port
from services.runtime import grpcio
from tests.integration.telephony.stack import sip_options
from tests.support.processes import free_port, listening
from tests.support.wait import wait_for

GRPC_SERVICES = {"contacts": "crs.contacts.v1.Contacts", "billing": "crs.billing.v1.Billing",
                 "fulfillment": "crs.fulfillment.v1.Fulfillment", "knowledge": "crs.knowledge.v1.Knowledge",
                 "insights": "crs.insights.v1.Insights",
                 "channels": "crs.channels.v1.Channels", "outreach": "crs.outreach.v1.Campaigns",
                 "screenpop": "crs.screenpop.v1.Screenpop"}  # fmt: skip
# Knowledge trains its model at its first start (15-20 s here), so it may be the last to serve.
SERVING_TIMEOUT = 90


def run_env(service_env: dict[str, str], tmp_path) -> tuple[dict[str, str], dict[str, int]]:
    ports = {
        name: free_port()
        for name in (
            *GRPC_SERVICES,
            "contacts_http",
            "console",
            "channels_smtp",
            "channels_chat",
            "channels_chat_demo",
            "channels_web_form",
            "mail_sink",
            "telephony_metrics",
            "fulfillment_worker_metrics",
        )
    }
    ports["edge"], ports["sip"] = free_udp_port(), free_udp_port()
    rtp_low = 40000 + (os.getpid() % 100) * 100
    env = dict(
        service_env,
        CRS_CONTACTS_GRPC=f"127.0.0.1:{ports['contacts']}",
        CRS_CONTACTS_HTTP=f"127.0.0.1:{ports['contacts_http']}",
        CRS_BILLING_GRPC=f"127.0.0.1:{ports['billing']}",
        CRS_FULFILLMENT_GRPC=f"127.0.0.1:{ports['fulfillment']}",
        CRS_KNOWLEDGE_GRPC=f"127.0.0.1:{ports['knowledge']}",
        CRS_INSIGHTS_GRPC=f"127.0.0.1:{ports['insights']}",
        CRS_SCREENPOP_GRPC=f"127.0.0.1:{ports['screenpop']}",
        CRS_CHANNELS_GRPC=f"127.0.0.1:{ports['channels']}",
        CRS_OUTREACH_GRPC=f"127.0.0.1:{ports['outreach']}",
        CRS_CHANNELS_SMTP_BIND=f"127.0.0.1:{ports['channels_smtp']}",
        CRS_CHANNELS_CHAT_BIND=f"127.0.0.1:{ports['channels_chat']}",
        CRS_CHANNELS_CHAT_DEMO_BIND=f"127.0.0.1:{ports['channels_chat_demo']}",
        CRS_CHANNELS_WEB_FORM_BIND=f"127.0.0.1:{ports['channels_web_form']}",
        CRS_CHANNELS_SINK_BIND=f"127.0.0.1:{ports['mail_sink']}",
        CRS_CHANNELS_SINK_DIR=str(tmp_path / "mail-sink"),
        CRS_CONSOLE_HTTP=f"127.0.0.1:{ports['console']}",
        CRS_FULFILLMENT_WORKER_METRICS_PORT=str(ports["fulfillment_worker_metrics"]),
        CRS_TELEPHONY_METRICS_PORT=str(ports["telephony_metrics"]),
        CRS_SIP_EDGE_PORT=str(ports["edge"]),
        CRS_SIP_EDGE=f"127.0.0.1:{ports['edge']}",
        CRS_SIP_PORT=str(ports["sip"]),
        CRS_RTP_PORT_LOW=str(rtp_low),
        CRS_RTP_PORT_HIGH=str(rtp_low + 99),
        CRS_RECORDINGS_URL=(tmp_path / "recordings").as_uri(),
        CRS_TELEPHONY_EVENT_SPOOL=str(tmp_path / "unsent-events.jsonl"),
    )
    return env, ports


class Output:
    """Collects a process's output as it comes, so that the pipe never fills."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process):
        for line in process.stdout:
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)


def start_crs_run(env) -> tuple[subprocess.Popen, Output]:
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", "run"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    return process, Output(process)


def grpc_serving(port: int, service: str) -> bool:
    with grpcio.blocking_channel(f"127.0.0.1:{port}") as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=1
            )
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def telephony_registered(port: int) -> bool:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return False
    return "crs_telephony_sip_registered 1.0" in text


def test_crs_run_starts_every_service_healthy_and_sigterm_stops_them_all(service_env, tmp_path):
    env, ports = run_env(service_env, tmp_path)
    process, output = start_crs_run(env)
    try:
        for name, service in GRPC_SERVICES.items():
            wait_for(lambda n=name, s=service: process.poll() is None and grpc_serving(ports[n], s),
                     timeout=SERVING_TIMEOUT, what=f"{name} to report SERVING")  # fmt: skip
        base = f"http://127.0.0.1:{ports['console']}"
        wait_for(lambda: http_status(f"{base}/readyz") == 200, timeout=30, what="the console to be ready")
        edge = ("127.0.0.1", ports["edge"])
        wait_for(lambda: sip_options(edge).startswith("SIP/2.0 200"), timeout=30, what="the edge to answer")
        wait_for(lambda: telephony_registered(ports["telephony_metrics"]), timeout=30,
                 what="telephony to register with the edge")  # fmt: skip
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, output.text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output.thread.join(timeout=5)
    text = output.text()
    assert text.splitlines()[0] == (
        "starting: contacts, billing, fulfillment, fulfillment-worker, knowledge, insights, channels, outreach, screenpop, console, edge, telephony"
    )
    for name in (
        "contacts",
        "billing",
        "fulfillment",
        "fulfillment-worker",
        "knowledge",
        "insights",
        "channels",
        "outreach",
        "screenpop",
        "console",
    ):
        assert any(line.startswith(f"{name}") and f"{name} stopped" in line for line in text.splitlines()), (
            text
        )
    assert not any(listening(ports[name]) for name in (*GRPC_SERVICES, "console"))
    assert sip_options(("127.0.0.1", ports["edge"])) == ""


def test_crs_run_stops_the_rest_and_fails_when_one_service_dies(service_env, tmp_path):
    env, ports = run_env(service_env, tmp_path)
    env["CRS_DATABASE_URL"] = "postgresql://postgres@127.0.0.1:5432/crs_no_such_database"
    process, output = start_crs_run(env)
    try:
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output.thread.join(timeout=5)
    assert code == 1, output.text()
    assert "exited; stopping the rest" in output.text()
    assert not any(listening(ports[name]) for name in (*GRPC_SERVICES, "console"))
