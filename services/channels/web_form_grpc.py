"""The web form's figures over gRPC (Channels.WebFormTally): protobuf in and out, no SQL here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from crs.channels.v1 import channels_pb2

from services.channels.web_form_store import Tally

DEFAULT_DAYS = 30
MAX_DAYS = 366


class WebFormTally(Protocol):
    async def tally(self, since: datetime) -> Tally: ...


async def web_form_tally(source: WebFormTally, request) -> channels_pb2.WebFormTallyResponse:
    days = min(max(request.days or DEFAULT_DAYS, 1), MAX_DAYS)
    found = await source.tally(datetime.now(UTC) - timedelta(days=days))
    return channels_pb2.WebFormTallyResponse(
        days=days,
        offered=found.offered,
        deflected=found.deflected,
        submitted=found.submitted,
        reopened=found.reopened,
        articles=[
            channels_pb2.ArticleDeflections(article_id=article, deflections=count)
            for article, count in found.by_article
        ],
    )
