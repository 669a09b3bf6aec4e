"""Composition root of the telephony service: `python -m services.telephony`."""

from __future__ import annotations

import ipaddress
import logging
import signal
import threading

from prometheus_client import Gauge

from services.runtime import logs, tls
from services.runtime.recordings import REPO_ROOT, store_from_env
from services.runtime.settings import Common, env, env_float, env_int, metrics_port, split_hostport
from services.telephony.control import ControlServer
from services.telephony.events import EventPublisher
from services.telephony.service import RecordingPolicy, TelephonyService
from services.telephony.sip_server import SipServer, SipSettings

log = logging.getLogger("services.telephony")


def sip_settings_from_env() -> SipSettings:
    """The SIP endpoint's settings (see services/telephony/README.md)."""
    bind_host = env("CRS_SIP_BIND", "127.0.0.1")
    return SipSettings(
        bind_host=bind_host,
        port=env_int("CRS_SIP_PORT", 5080),
        advertise_host=env("CRS_SIP_ADVERTISE", "127.0.0.1" if bind_host == "0.0.0.0" else bind_host),
        edge=split_hostport(env("CRS_SIP_EDGE", "127.0.0.1:5060")),
        username=env("CRS_SIP_USERNAME", "crs-telephony"),
        password=sip_password(),
        register_expires=env_int("CRS_SIP_REGISTER_EXPIRES", 60),
        rtp_low=env_int("CRS_RTP_PORT_LOW", 20000),
        rtp_high=env_int("CRS_RTP_PORT_HIGH", 29999),
        watchdog_seconds=env_float("CRS_SIP_WATCHDOG_SECONDS", 5.0),
        edge_sources=networks(env("CRS_SIP_EDGE_SOURCES", "")),
    )


def networks(text: str) -> tuple:
    """A comma list of addresses or CIDR networks; a malformed one stops the service."""
    try:
        return tuple(
            ipaddress.ip_network(item.strip(), strict=False) for item in text.split(",") if item.strip()
        )
    except ValueError as exc:
        raise SystemExit(f"CRS_SIP_EDGE_SOURCES: {exc}") from None


DEFAULT_CONTROL = "127.0.0.1:50055"


def control_bind(host: str) -> str:
    """Where the recording control API listens: the gRPC bind host, the port of CRS_TELEPHONY_GRPC."""
    _, port = split_hostport(env("CRS_TELEPHONY_GRPC", DEFAULT_CONTROL))
    return f"{host}:{port}"


WILDCARDS = ("", "0.0.0.0", "::", "[::]")


def control_advertise(bind_host: str, port: int) -> str:
    """Where others reach this replica's control API: CRS_TELEPHONY_CONTROL_ADVERTISE, else the bind host,
    else (listening on every address) the address telephony gives the edge, CRS_SIP_ADVERTISE, which is
    the node's in Kubernetes and the container's in compose."""
    given = env("CRS_TELEPHONY_CONTROL_ADVERTISE", "")
    if given:
        return given
    host = bind_host if bind_host not in WILDCARDS else env("CRS_SIP_ADVERTISE", "127.0.0.1")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def sip_password() -> str:
    password = env("CRS_SIP_PASSWORD", "")
    if not password:
        raise SystemExit("CRS_SIP_PASSWORD is not set: telephony could not register with the edge")
    return password


def start_metrics(port: int) -> None:
    if not port:
        return
    try:
        from services.runtime.metrics import start_metrics_server
    except ImportError:
        from prometheus_client import start_http_server as start_metrics_server
    start_metrics_server(port)


def expose_gauges(service: TelephonyService, server: SipServer) -> None:
    """Gauges read at scrape time: what an operator checks for stuck calls and leaked resources."""
    for name, help_text, read in (
        ("crs_telephony_calls_in_progress", "Calls ringing or answered", lambda: len(service.book)),
        ("crs_telephony_sip_dialogs", "SIP dialogs the endpoint holds", lambda: len(server.dialogs)),
        ("crs_telephony_media_calls", "Calls held by the media stack", lambda: server.media.calls),
        ("crs_telephony_rtp_ports_in_use", "RTP ports held by calls", lambda: server.media.rtp_ports_in_use),
        ("crs_telephony_recordings_open", "Recordings being written", lambda: len(service.recordings)),
        ("crs_telephony_sip_registered", "1 while registered with the SIP edge", server.registered.is_set),
    ):
        Gauge(name, help_text).set_function(read)


def main() -> None:
    # A threaded process, not started through process.run: it names itself, so its control API presents
    # telephony's certificate (the console checks for it, whatever address it dials), not the cli's.
    tls.set_identity("telephony")
    common = Common.from_env()
    logs.configure("telephony", common.log_level)
    start_metrics(metrics_port("telephony"))
    publisher = EventPublisher(
        amqp_url=common.amqp_url,
        capacity=env_int("CRS_TELEPHONY_EVENT_BUFFER", 10_000),
        spool_path=env(
            "CRS_TELEPHONY_EVENT_SPOOL", str(REPO_ROOT / "var" / "telephony" / "unsent-events.jsonl")
        ),
    )
    service = TelephonyService(
        publisher=publisher,
        store=store_from_env(),
        region=common.home_region,
        policy=RecordingPolicy.parse(env("CRS_RECORD_EXTENSIONS", "*")),
        answer_delay=env_float("CRS_ANSWER_DELAY_SECONDS", 0.5),
        max_call_seconds=env_float("CRS_MAX_CALL_SECONDS", 4 * 3600),
        max_calls=env_int("CRS_TELEPHONY_MAX_CALLS", 500),
        spool_dir=env("CRS_RECORDING_SPOOL", "") or None,
        media_timeout=env_float("CRS_RTP_INACTIVITY_SECONDS", 30.0),
    )
    server = SipServer(settings=sip_settings_from_env(), calls=service)
    service.endpoint = server
    expose_gauges(service, server)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    control = ControlServer(service, control_bind(common.grpc_bind_host))
    service.control_address = control_advertise(common.grpc_bind_host, control.port)
    publisher.start()
    server.start()
    control.start()
    log.info("telephony listening", extra={"fields": {"sip": f"{server.address[0]}:{server.address[1]}"}})
    stop.wait()
    log.info("telephony stopping: no new calls; ending calls in progress")
    control.stop()
    server.stop()
    service.drain()
    flushed = publisher.stop(timeout=env_float("CRS_TELEPHONY_FLUSH_SECONDS", 10.0))
    server.close()
    log.info("telephony stopped", extra={"fields": {"events_flushed": flushed}})


if __name__ == "__main__":
    main()
