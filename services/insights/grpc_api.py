"""The Insights gRPC service: protobuf in, insights use cases, protobuf out. No SQL here."""

from __future__ import annotations

from datetime import date

import grpc
from crs.insights.v1 import insights_pb2 as pb
from crs.insights.v1 import insights_pb2_grpc

from services.insights import convert
from services.insights.domain.alerts import AlertNotFound, InvalidMove
from services.insights.domain.recalls import InvalidRecall, RecallNotFound
from services.insights.domain.reports import InvalidReport
from services.insights.domain.sales import InvalidSales
from services.insights.domain.voice import InvalidQuery, Slice
from services.insights.service import Insights, NotAllowed
from services.runtime.grpcio import Servicer, errors_to_status
from services.runtime.principal import from_metadata

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Insights"].full_name
ERRORS = errors_to_status(
    {
        InvalidSales: grpc.StatusCode.INVALID_ARGUMENT,
        InvalidMove: grpc.StatusCode.INVALID_ARGUMENT,
        InvalidQuery: grpc.StatusCode.INVALID_ARGUMENT,
        NotAllowed: grpc.StatusCode.PERMISSION_DENIED,
        AlertNotFound: grpc.StatusCode.NOT_FOUND,
        InvalidRecall: grpc.StatusCode.INVALID_ARGUMENT,
        RecallNotFound: grpc.StatusCode.NOT_FOUND,
        InvalidReport: grpc.StatusCode.INVALID_ARGUMENT,
    }
)
MAX_ROWS = 100_000


async def _principal(context):
    principal = from_metadata(context.invocation_metadata())
    if principal is None:
        await context.abort(
            grpc.StatusCode.UNAUTHENTICATED, "this call needs the caller's principal metadata"
        )
    return principal


async def _date(context, text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{name} must be a date YYYY-MM-DD")


class InsightsApi(insights_pb2_grpc.InsightsServicer):
    def __init__(self, insights: Insights):
        self.insights = insights

    @ERRORS
    async def ImportSales(self, request, context):
        who = await _principal(context)
        if not request.rows or len(request.rows) > MAX_ROWS:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"send 1 to {MAX_ROWS} rows at a time")
        count = await self.insights.import_sales(
            [convert.sales_row_from_pb(r) for r in request.rows],
            source=request.source or "api",
            actor=who.username,
            role=who.role,
        )
        return pb.ImportSalesResponse(rows=count)

    @ERRORS
    async def GetCpmu(self, request, context):
        since = await _date(context, request.since, "since")
        rows = await self.insights.cpmu(
            by=request.by or "product", issue_code=request.issue_code, since=since
        )
        return pb.GetCpmuResponse(rows=[convert.cpmu_to_pb(r) for r in rows])

    @ERRORS
    async def ListAlerts(self, request, context):
        since = await _date(context, request.since, "since")
        found = await self.insights.alerts(since, request.status)
        return pb.ListAlertsResponse(alerts=[convert.alert_to_pb(a) for a in found])

    @ERRORS
    async def GetAlert(self, request, context):
        return convert.alert_to_pb(await self.insights.alert(request.id))

    @ERRORS
    async def MoveAlert(self, request, context):
        who = await _principal(context)
        moved = await self.insights.move(
            request.id, request.status, actor=who.username, role=who.role, reason=request.reason
        )
        return convert.alert_to_pb(moved)

    @ERRORS
    async def Recompute(self, request, context):
        raised = await self.insights.recompute()
        return pb.RecomputeResponse(alerts_raised=len(raised))

    @ERRORS
    async def GetVolumes(self, request, context):
        found = await self.insights.volumes(
            by=request.by,
            weeks=request.weeks or 26,
            issue_code=request.issue_code,
            level=request.level or 2,
            max_keys=request.max_keys or 8,
        )
        return convert.volumes_to_pb(found)

    @ERRORS
    async def GetRisingIssues(self, request, context):
        found = await self.insights.rising(limit=request.limit or 10)
        return pb.GetRisingIssuesResponse(
            issues=[convert.rising_to_pb(r) for r in found], threshold=self.insights.tuning.glr_threshold
        )

    @ERRORS
    async def GetCpmuTrend(self, request, context):
        found = await self.insights.cpmu_trend(weeks=request.weeks or 26, sku=request.sku)
        return pb.GetCpmuTrendResponse(products=[convert.trend_to_pb(t) for t in found])

    @ERRORS
    async def ListSliceContacts(self, request, context):
        s = request.slice
        where = Slice(
            sku=s.sku,
            lot_code=s.lot_code,
            region=s.region,
            channel=s.channel,
            issue_code=s.issue_code,
            start=await _date(context, s.start, "slice.start"),
            end=await _date(context, s.end, "slice.end"),
        )
        found, total = await self.insights.contacts_in(where, request.limit or 200)
        return pb.ListSliceContactsResponse(
            contacts=[convert.slice_contact_to_pb(f) for f in found], total=total
        )

    # -- the operational reports --

    @ERRORS
    async def ListReports(self, request, context):
        return convert.report_kinds_to_pb()

    @ERRORS
    async def GetReport(self, request, context):
        since = await _date(context, request.since, "since")
        until = await _date(context, request.until, "until")
        found = await self.insights.report(request.name, by=request.by, since=since, until=until)
        return convert.report_to_pb(found, request.since, request.until)

    # -- recall mode --

    async def _recall_pb(self, recall):
        return convert.recall_to_pb(recall, await self.insights.recall_contacts(recall))

    @ERRORS
    async def OpenRecall(self, request, context):
        who = await _principal(context)
        opened = await self.insights.open_recall(
            actor=who.username,
            role=who.role,
            reason=request.reason,
            alert_id=request.alert_id,
            sku=request.sku,
            lot_codes=list(request.lot_codes),
            regions=list(request.regions),
            title=request.title,
            script=list(request.script),
            consumer_message=request.consumer_message,
        )
        return await self._recall_pb(opened)

    @ERRORS
    async def ListRecalls(self, request, context):
        found = await self.insights.recalls(request.status)
        return pb.ListRecallsResponse(recalls=[await self._recall_pb(r) for r in found])

    @ERRORS
    async def GetRecall(self, request, context):
        return await self._recall_pb(await self.insights.recall(request.id))

    @ERRORS
    async def CloseRecall(self, request, context):
        who = await _principal(context)
        closed = await self.insights.close_recall(
            request.id, actor=who.username, role=who.role, reason=request.reason
        )
        return await self._recall_pb(closed)

    @ERRORS
    async def FindRecalls(self, request, context):
        """Asked on every pop, so it answers from the open recalls alone, without counting contacts."""
        if len(request.products) > 200:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "ask about at most 200 products")
        found = await self.insights.find_recalls([(p.sku, p.lot_code) for p in request.products])
        return pb.FindRecallsResponse(recalls=[convert.recall_to_pb(r) for r in found])

    @ERRORS
    async def GetRecallTally(self, request, context):
        tally = await self.insights.recall_tally(request.recall_id)
        return pb.RecallTally(recall_id=tally.recall_id, contacts=tally.contacts, buyers=tally.buyers)


def servicer(insights: Insights) -> Servicer:
    return Servicer(InsightsApi(insights), insights_pb2_grpc.add_InsightsServicer_to_server, SERVICE_NAME)
