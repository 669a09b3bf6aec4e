"""Contacts' Privacy API (its own data) and ConsumerRights (the archive, the erasure, retention): thin."""

from __future__ import annotations

import uuid
from datetime import datetime

import grpc
from crs.contacts.v1 import privacy_pb2_grpc, rights_pb2, rights_pb2_grpc

from services.contacts.privacy import archive, own_data, retention, workflow
from services.contacts.privacy.services import Services
from services.runtime import grpcio, tls
from services.runtime import privacy as runtime_privacy
from services.runtime.grpcio import Servicer, errors_to_status

_errors_to_status = errors_to_status(
    {
        workflow.InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
        retention.InvalidPolicy: grpc.StatusCode.INVALID_ARGUMENT,
        workflow.NotFound: grpc.StatusCode.NOT_FOUND,
        workflow.LegalHold: grpc.StatusCode.FAILED_PRECONDITION,
    }
)


def _uuid(value: str, field: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise workflow.InvalidRequest(f"{field}: {value[:60]!r} is not an id") from None


def _who(context) -> str:
    """The person acting, or the service that called as itself (the command line is "service:cli")."""
    person = grpcio.authenticated_principal(context)
    if person is not None:
        return person.username
    return f"service:{tls.peer_identity(context) or 'unknown'}"


def _ts(message, value: datetime | None) -> None:
    if value is not None:
        message.FromDatetime(value)


def erasure_to_pb(erasure: workflow.Erasure) -> rights_pb2.Erasure:
    message = rights_pb2.Erasure(
        id=erasure.id,
        consumer_id=erasure.consumer_id,
        state=erasure.state,
        requested_by=erasure.requested_by,
        reason=erasure.reason,
    )
    _ts(message.requested_at, erasure.requested_at)
    _ts(message.completed_at, erasure.completed_at)
    for step in erasure.steps:
        item = message.steps.add(
            service=step.service,
            state=step.state,
            erased=dict(step.erased),
            attempts=step.attempts,
            last_error=step.last_error,
        )
        _ts(item.finished_at, step.finished_at)
    return message


def policy_to_pb(policy: retention.Policy) -> rights_pb2.RetentionPolicy:
    message = rights_pb2.RetentionPolicy(kind=policy.kind, days=policy.days, updated_by=policy.updated_by)
    _ts(message.updated_at, policy.updated_at)
    return message


class ConsumerRightsServicer(rights_pb2_grpc.ConsumerRightsServicer):
    def __init__(self, *, flow: workflow.Workflow, services: Services, keep: retention.Retention, clock):
        self.flow = flow
        self.services = services
        self.retention = keep
        self.clock = clock

    @_errors_to_status
    async def ExportArchive(self, request, context):
        consumer_id = _uuid(request.consumer_id, "consumer_id")
        if not await self.flow.directory.exists(consumer_id):
            raise workflow.NotFound(f"no consumer {consumer_id}")
        keys = await self.flow.directory.keys(consumer_id)
        answers = await self.services.export(keys)
        data, _ = archive.build(consumer_id=consumer_id, exported_at=self.clock(), answers=answers)
        return rights_pb2.ExportArchiveResponse(archive=data, file_name=f"consumer-{consumer_id}.zip")

    @_errors_to_status
    async def RequestErasure(self, request, context):
        erasure = await self.flow.request(
            consumer_id=_uuid(request.consumer_id, "consumer_id"),
            reason=request.reason,
            requested_by=_who(context),
            erasure_id=request.erasure_id,
        )
        return erasure_to_pb(erasure)

    @_errors_to_status
    async def GetErasure(self, request, context):
        return erasure_to_pb(await self.flow.get(_uuid(request.erasure_id, "erasure_id")))

    @_errors_to_status
    async def ListRetentionPolicies(self, request, context):
        policies = await self.retention.store.policies()
        return rights_pb2.ListRetentionPoliciesResponse(policies=[policy_to_pb(p) for p in policies])

    @_errors_to_status
    async def PutRetentionPolicy(self, request, context):
        policy = await self.retention.put(kind=request.kind, days=request.days, by=_who(context))
        return policy_to_pb(policy)

    @_errors_to_status
    async def RunRetentionSweep(self, request, context):
        record = await self.retention.sweep()
        message = rights_pb2.RetentionSweep(id=record.id, removed=dict(record.removed))
        _ts(message.ran_at, record.ran_at)
        return message


def servicers(*, pool, flow, services, keep, clock) -> list[Servicer]:
    own = runtime_privacy.servicer("contacts", privacy_pb2_grpc, pool, own_data.export, own_data.erase)
    rights = Servicer(
        ConsumerRightsServicer(flow=flow, services=services, keep=keep, clock=clock),
        rights_pb2_grpc.add_ConsumerRightsServicer_to_server,
        rights_pb2.DESCRIPTOR.services_by_name["ConsumerRights"].full_name,
    )
    return [own, rights]
