"""The Themes gRPC service: protobuf in, the theme finder, protobuf out. No SQL here."""

from __future__ import annotations

from datetime import date

import grpc
from crs.insights.v1 import themes_pb2 as pb
from crs.insights.v1 import themes_pb2_grpc

from services.insights.domain.themes import Theme, Verbatim
from services.insights.themes import InvalidScope, Run, RunNotFound, Scope, ThemeFinder
from services.runtime.grpcio import Servicer, errors_to_status

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Themes"].full_name
ERRORS = errors_to_status(
    {InvalidScope: grpc.StatusCode.INVALID_ARGUMENT, RunNotFound: grpc.StatusCode.NOT_FOUND}
)
MAX_CONTACTS = 500


def _day(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidScope(f"{name} must be a date YYYY-MM-DD") from None


def theme_to_pb(theme: Theme) -> pb.Theme:
    return pb.Theme(
        id=theme.id,
        label=theme.label,
        terms=list(theme.terms),
        size=theme.size,
        rise=theme.rise,
        weeks=[pb.ThemeWeek(week=w.isoformat(), contacts=n) for w, n in theme.weeks],
        languages=list(theme.languages),
    )


def run_to_pb(run: Run) -> pb.GetThemesResponse:
    s = run.scope
    return pb.GetThemesResponse(
        run_id=run.id,
        scope=pb.ThemeScope(
            start=s.start.isoformat(), end=s.end.isoformat(), sku=s.sku, issue_prefix=s.issue_prefix
        ),
        computed_at=run.computed_at.isoformat().replace("+00:00", "Z"),
        representation=run.representation,
        verbatims=run.verbatims,
        themes=[theme_to_pb(t) for t in run.themes],
    )


def contact_to_pb(v: Verbatim) -> pb.ThemeContact:
    return pb.ThemeContact(
        contact_id=v.contact_id,
        sku=v.sku,
        issue_code=v.issue_code,
        received_on=v.received_on.isoformat(),
        language=v.language,
        verbatim=v.text,
    )


class ThemesApi(themes_pb2_grpc.ThemesServicer):
    def __init__(self, finder: ThemeFinder):
        self.finder = finder

    @ERRORS
    async def GetThemes(self, request, context):
        s = request.scope
        scope = Scope.of(
            start=_day(s.start, "scope.start"),
            end=_day(s.end, "scope.end"),
            sku=s.sku,
            issue_prefix=s.issue_prefix,
            today=self.finder.clock().date(),
        )
        return run_to_pb(await self.finder.themes(scope, refresh=request.refresh))

    @ERRORS
    async def ListThemeContacts(self, request, context):
        if not 0 <= request.limit <= MAX_CONTACTS:
            raise InvalidScope(f"limit: 1 to {MAX_CONTACTS}")
        theme, found, total = await self.finder.contacts(
            request.run_id, request.theme_id, request.limit or 200
        )
        return pb.ListThemeContactsResponse(
            theme=theme_to_pb(theme), contacts=[contact_to_pb(v) for v in found], total=total
        )


def servicer(finder: ThemeFinder) -> Servicer:
    return Servicer(ThemesApi(finder), themes_pb2_grpc.add_ThemesServicer_to_server, SERVICE_NAME)
