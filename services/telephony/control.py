"""The recording control API (protos/crs/telephony/v1/control.proto): PCI pause and resume over gRPC.

A small synchronous grpcio server: telephony is a threaded process (SIP and RTP threads, no event
loop), and a pause must take effect at once, so each request changes the recording under its lock on
the server's own thread. The server demands mutual TLS; the actor is the principal in the call's metadata,
believed only from an issuer's certificate (CRS_PRINCIPAL_ISSUERS), never a request field.
"""

from __future__ import annotations

import logging
from concurrent import futures

import grpc
from crs.telephony.v1 import control_pb2, control_pb2_grpc, events_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.runtime import grpcio
from services.telephony import privacy
from services.telephony.service import NoSuchRecording, NotAllowed, TelephonyService

log = logging.getLogger(__name__)

SERVICE_NAME = control_pb2.DESCRIPTOR.services_by_name["RecordingControl"].full_name


def _stamp(moment) -> Timestamp | None:
    if moment is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _state(call_id: str, changed: bool, recording) -> control_pb2.RecordingState:
    return control_pb2.RecordingState(
        call_id=call_id,
        paused=recording.is_paused,
        changed=changed,
        intervals=[
            events_pb2.PausedInterval(
                start_seconds=i.start,
                end_seconds=i.end or 0.0,
                paused_by=i.paused_by,
                resumed_by=i.resumed_by,
                paused_at=_stamp(i.paused_at),
                resumed_at=_stamp(i.resumed_at),
            )
            for i in recording.paused
        ],
    )


class RecordingControl(control_pb2_grpc.RecordingControlServicer):
    def __init__(self, service: TelephonyService):
        self.service = service

    def PauseRecording(self, request, context):
        return self._on_recording(self.service.pause, request, context)

    def ResumeRecording(self, request, context):
        return self._on_recording(self.service.resume, request, context)

    def GetRecordingState(self, request, context):
        return self._on_recording(
            lambda call_id, actor: (False, self.service.recording_state(call_id)), request, context
        )

    def _on_recording(self, action, request, context):
        actor = grpcio.authenticated_principal(context)
        if actor is None:
            context.abort(
                grpc.StatusCode.UNAUTHENTICATED,
                "a principal from an issuer's certificate is required in the call's metadata",
            )
        try:
            changed, recording = action(request.call_id, actor)
        except NoSuchRecording as exc:
            context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
        except NotAllowed as exc:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, str(exc))
        return _state(request.call_id, changed, recording)


class ControlServer:
    """The control API with health, on `bind` (host:port; port 0 picks one), over mutual TLS.

    Reflection only when a development setting turns it on; health also on the plaintext health-only
    port when CRS_GRPC_HEALTH_PORT sets one, for probes that present no certificate."""

    def __init__(self, service: TelephonyService, bind: str):
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="control"))
        control_pb2_grpc.add_RecordingControlServicer_to_server(RecordingControl(service), self.server)
        privacy.add_to(self.server, service.store, service.publisher)
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        if grpcio.reflection_enabled():
            reflection.enable_server_reflection(
                [
                    SERVICE_NAME,
                    privacy.SERVICE_NAME,
                    health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                    reflection.SERVICE_NAME,
                ],
                self.server,
            )
        self.port = self.server.add_secure_port(bind, grpcio.server_credentials())
        if not self.port:
            raise RuntimeError(f"cannot listen on {bind}")
        self.health_server = None
        health_bind = grpcio.health_bind()
        if health_bind:
            self.health_server = grpc.server(
                futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="health")
            )
            health_pb2_grpc.add_HealthServicer_to_server(self.health, self.health_server)
            if not self.health_server.add_insecure_port(health_bind):
                raise RuntimeError(f"cannot listen on {health_bind}")

    def start(self) -> None:
        self.server.start()
        if self.health_server is not None:
            self.health_server.start()
        for name in ("", SERVICE_NAME, privacy.SERVICE_NAME):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("recording control listening", extra={"fields": {"port": self.port}})

    def stop(self, grace: float = 2.0) -> None:
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        if self.health_server is not None:
            self.health_server.stop(0).wait()
