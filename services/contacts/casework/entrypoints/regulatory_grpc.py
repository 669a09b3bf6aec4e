"""The Regulatory gRPC API: protobuf in, a regulatory use case, protobuf out. No SQL, no rules here.

Which role may call each method is the permission table's (services/runtime/permissions.py, GRPC_METHODS);
a change needs the caller's principal, whose name is the filer or editor recorded.
"""

from __future__ import annotations

from datetime import UTC

from crs.contacts.v1 import casework_pb2 as case_pb2
from crs.contacts.v1 import regulatory_pb2 as pb
from crs.contacts.v1 import regulatory_pb2_grpc
from google.protobuf import json_format

from services.contacts.casework.domain.regulatory import Regime
from services.contacts.casework.entrypoints.grpc import CaseworkServicer, change, read
from services.contacts.casework.regulatory_service import Regulatory
from services.contacts.casework.shape import clock_pb, form_values

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Regulatory"].full_name


def regime_pb(regime: Regime) -> pb.Regime:
    return pb.Regime(
        code=regime.code,
        name=regime.name,
        authority=regime.authority,
        form=regime.form,
        issue_prefixes=regime.issue_prefixes,
        min_severity=regime.min_severity,
        deadline_amount=regime.deadline.amount,
        deadline_unit=regime.deadline.unit,
        warn_amount=regime.warn_before.amount,
        warn_unit=regime.warn_before.unit,
        form_fields=regime.form_fields,
        notify=regime.notify,
        active=regime.active,
    )


def _holidays_pb(holidays) -> pb.Holidays:
    return pb.Holidays(holidays=[pb.Holiday(day=day.isoformat(), name=name) for day, name in holidays])


class RegulatoryServicer(regulatory_pb2_grpc.RegulatoryServicer):
    def __init__(self, *, regulatory: Regulatory, cases: CaseworkServicer):
        self.regulatory = regulatory
        # Cases are read and shown as Casework shows them, clock and all.
        self.cases = cases

    @read
    async def ListRegimes(self, request: pb.ListRegimesRequest, context) -> pb.Regimes:
        regimes = await self.regulatory.regimes(include_inactive=request.include_inactive)
        return pb.Regimes(regimes=[regime_pb(r) for r in regimes], form_fields=self.regulatory.form_fields)

    @change()
    async def PutRegime(self, request: pb.Regime, who) -> pb.Regime:
        given = json_format.MessageToDict(
            request, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        )
        book = await self.cases.casework.codes.get()
        regime = await self.regulatory.put_regime(given, actor=who.username, issue_codes=book.issues)
        return regime_pb(regime)

    @read
    async def ListHolidays(self, request: pb.ListHolidaysRequest, context) -> pb.Holidays:
        return _holidays_pb(await self.regulatory.holidays())

    @change()
    async def PutHoliday(self, request: pb.PutHolidayRequest, who) -> pb.Holidays:
        holiday = request.holiday
        return _holidays_pb(
            await self.regulatory.put_holiday(holiday.day, holiday.name, remove=request.remove)
        )

    @change()
    async def FileReport(self, request: pb.FileReportRequest, who) -> case_pb2.Case:
        case = await self.cases.views.case(request.case_id)
        reported_at = request.reported_at.ToDatetime(tzinfo=UTC) if request.HasField("reported_at") else None
        await self.regulatory.file_report(
            case, reported_at=reported_at, reference=request.reference, actor=who.username
        )
        return await self.cases.shown(case)

    @read
    async def ExportReport(self, request: pb.ExportReportRequest, context) -> pb.RegulatoryExport:
        case = await self.cases.views.case(request.case_id)
        clock = await self.regulatory.clock_of(case)
        values = form_values(case, await self.cases.casework.codes.get(), clock)
        return pb.RegulatoryExport(
            case_id=case.id,
            reference=case.reference or 0,
            clock=clock_pb(clock, self.regulatory.clock()),
            fields=[pb.ExportField(name=name, value=value) for name, value in values],
        )
