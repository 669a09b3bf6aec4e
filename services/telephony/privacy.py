"""Telephony's Privacy API (protos/crs/telephony/v1/privacy.proto): recordings and buffered call events.

Telephony knows a consumer only by the numbers they call from and the recordings of their calls, so the
erasure workflow passes those (crs.common.v1.ConsumerKeys). It has no database: recordings go through the
recording store's delete, events through the publisher's buffer (the spool file exists only while the
process is stopped, and is read back into the buffer when it starts). Asked again with the same erasure
id, it answers as the first time while the process lives; the workflow keeps the first answer anyway.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime

import grpc
from crs.common.v1 import privacy_pb2 as pb
from crs.telephony.v1 import privacy_pb2_grpc

from services.runtime import grpcio, permissions
from services.runtime.events import Event
from services.runtime.privacy import Keys, erase_response
from services.runtime.recordings import RecordingNotFound, RecordingStore, check_key
from services.telephony.events import EventPublisher

log = logging.getLogger(__name__)
SERVICE_NAME = "crs.telephony.v1.Privacy"


def names_in(event: Event, keys: Keys) -> bool:
    """Whether a call event carries one of the consumer's numbers, calls or recordings."""
    body = event.to_json().decode()
    needles = [*keys.phone_numbers, *keys.call_ids, *keys.recording_keys]
    return any(needle and needle in body for needle in needles)


class TelephonyPrivacy(privacy_pb2_grpc.PrivacyServicer):
    def __init__(self, *, store: RecordingStore, publisher: EventPublisher):
        self.store = store
        self.publisher = publisher
        self._answers: dict[str, tuple[dict[str, int], datetime]] = {}
        self._lock = threading.Lock()

    def _check(self, context, permission: str) -> None:
        person = grpcio.authenticated_principal(context)
        if person is not None and not permissions.allowed(person.role, permission):
            context.abort(grpc.StatusCode.PERMISSION_DENIED, f"a {person.role} does not have {permission}")

    def _keys(self, message, context) -> Keys:
        try:
            keys = Keys.from_pb(message)
            for key in keys.recording_keys:
                check_key(key)
            return keys
        except ValueError as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))

    def ExportConsumer(self, request, context):
        self._check(context, "consumers.export")
        keys = self._keys(request.consumer, context)
        attachments, missing = [], []
        for key in keys.recording_keys:
            try:
                content = self.store.get(key)
            except RecordingNotFound:
                missing.append(key)
                continue
            attachments.append(
                pb.Attachment(
                    name=f"recordings/{key.replace('/', '_')}", content_type="audio/wav", content=content
                )
            )
        events = [e.to_dict() for e in self.publisher.buffered() if names_in(e, keys)]
        data = {
            "recordings": [a.name for a in attachments],
            "recordings_already_gone": missing,
            "call_events_not_yet_published": events,
        }
        return pb.ExportConsumerResponse(
            service="telephony", data_json=json.dumps(data, default=str), attachments=attachments
        )

    def EraseConsumer(self, request, context):
        self._check(context, "consumers.erase")
        keys = self._keys(request.consumer, context)
        with self._lock:
            if request.erasure_id not in self._answers:
                self._answers[request.erasure_id] = (self.erase(keys), datetime.now(UTC))
            erased, at = self._answers[request.erasure_id]
        return erase_response("telephony", erased, at)

    def erase(self, keys: Keys) -> dict[str, int]:
        deleted = 0
        for key in keys.recording_keys:
            if self.store.exists(key):
                self.store.delete(key)
                deleted += 1
        dropped = self.publisher.forget(lambda event: names_in(event, keys))
        log.info(
            "recordings and call events erased", extra={"fields": {"recordings": deleted, "events": dropped}}
        )
        return {"recordings": deleted, "call_events": dropped}


def add_to(server: grpc.Server, store: RecordingStore, publisher: EventPublisher) -> None:
    privacy_pb2_grpc.add_PrivacyServicer_to_server(TelephonyPrivacy(store=store, publisher=publisher), server)
