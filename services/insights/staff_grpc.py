"""The Staff gRPC service: the stakeholder lists and the weekly digest. Protobuf in, staff mail's use
cases, protobuf out. No SQL here."""

from __future__ import annotations

import grpc
from crs.insights.v1 import staff_pb2 as pb
from crs.insights.v1 import staff_pb2_grpc

from services.insights.domain.staff import InvalidStakeholder, InvalidWeek, Stakeholder
from services.insights.service import NotAllowed
from services.insights.staff_mail import StaffMail
from services.runtime.grpcio import Servicer, errors_to_status
from services.runtime.principal import from_metadata

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Staff"].full_name
ERRORS = errors_to_status(
    {
        InvalidStakeholder: grpc.StatusCode.INVALID_ARGUMENT,
        InvalidWeek: grpc.StatusCode.INVALID_ARGUMENT,
        NotAllowed: grpc.StatusCode.PERMISSION_DENIED,
    }
)


def stakeholder_pb(person: Stakeholder) -> pb.Stakeholder:
    return pb.Stakeholder(email=person.email, role=person.role, name=person.name)


async def _principal(context):
    principal = from_metadata(context.invocation_metadata())
    if principal is None:
        await context.abort(
            grpc.StatusCode.UNAUTHENTICATED, "this call needs the caller's principal metadata"
        )
    return principal


class StaffApi(staff_pb2_grpc.StaffServicer):
    def __init__(self, mail: StaffMail):
        self.mail = mail

    @ERRORS
    async def ListStakeholders(self, request, context):
        found = await self.mail.stakeholders(request.role)
        return pb.ListStakeholdersResponse(stakeholders=[stakeholder_pb(p) for p in found])

    @ERRORS
    async def PutStakeholder(self, request, context):
        who = await _principal(context)
        person = await self.mail.put_stakeholder(
            email=request.email, role=request.role, name=request.name, actor=who.username, actor_role=who.role
        )
        return stakeholder_pb(person)

    @ERRORS
    async def RemoveStakeholder(self, request, context):
        who = await _principal(context)
        if not await self.mail.remove_stakeholder(
            email=request.email, role=request.role, actor_role=who.role
        ):
            await context.abort(
                grpc.StatusCode.NOT_FOUND, f"{request.email} is not on the {request.role} list"
            )
        return pb.RemoveStakeholderResponse()

    @ERRORS
    async def GetDigest(self, request, context):
        week, audience = request.week or self.mail.due_week(), request.list or "qa"
        pdf = await self.mail.pdf(week, audience)
        return pb.DigestFile(week=week, filename=f"digest-{week}-{audience}.pdf", pdf=pdf)

    @ERRORS
    async def SendDigest(self, request, context):
        who = await _principal(context)
        week = request.week or self.mail.due_week()
        claimed = await self.mail.claim_digest(week, actor=who.username)
        if claimed:
            await self.mail.send_due()  # at once, rather than at the schedule's next round
        return pb.SendDigestResponse(week=week, claimed=claimed)


def servicer(mail: StaffMail) -> Servicer:
    return Servicer(StaffApi(mail), staff_pb2_grpc.add_StaffServicer_to_server, SERVICE_NAME)
