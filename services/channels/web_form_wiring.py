"""The public web form's parts, built for channels' composition root (services/channels/__main__.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from aiohttp import web
from psycopg_pool import AsyncConnectionPool

from services.channels import metrics, web_form_web
from services.channels.rate_limit import BadProxySetting, Budget, TrustedProxies, client_address
from services.channels.web_form import WebForm
from services.channels.web_form_clients import CaseworkWebCases, KnowledgeAnswers
from services.channels.web_form_store import SqlBuckets, SqlOffers
from services.runtime.settings import env, env_float, env_int, grpc_target

# Suggestions come as the consumer types: this many times the form's own budget.
QUESTIONS_PER_FORM = 10


@dataclass(frozen=True)
class WebFormSettings:
    bind: str
    knowledge: str
    per_minute: float = 6.0
    burst: int = 5
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies)

    @classmethod
    def from_env(cls) -> WebFormSettings:
        try:
            proxies = TrustedProxies.parse(env("CRS_CHANNELS_TRUSTED_PROXIES", ""))
        except BadProxySetting as exc:
            raise SystemExit(f"CRS_CHANNELS_TRUSTED_PROXIES: {exc}") from None
        return cls(
            bind=env("CRS_CHANNELS_WEB_FORM_BIND", "127.0.0.1:8084"),
            knowledge=grpc_target("knowledge"),
            per_minute=env_float("CRS_CHANNELS_WEB_FORM_PER_MINUTE", 6.0),
            burst=env_int("CRS_CHANNELS_WEB_FORM_BURST", 5),
            trusted_proxies=proxies,
        )


def web_form_app(
    settings: WebFormSettings,
    pool: AsyncConnectionPool,
    contacts: grpc.aio.Channel,
    knowledge: grpc.aio.Channel,
) -> web.Application:
    budget = Budget(per_minute=settings.per_minute, burst=settings.burst)
    questions = Budget(
        per_minute=settings.per_minute * QUESTIONS_PER_FORM, burst=settings.burst * QUESTIONS_PER_FORM
    )
    form = WebForm(
        cases=CaseworkWebCases(contacts),
        answers=KnowledgeAnswers(knowledge),
        offers=SqlOffers(pool),
        forms=SqlBuckets(pool, budget, scope="form"),
        questions=SqlBuckets(pool, questions, scope="question"),
        on_deflected=[metrics.WEB_FORM_DEFLECTIONS.inc],
    )

    def client(request: web.Request) -> str:
        return client_address(
            request.remote, request.headers.getall("X-Forwarded-For", []), settings.trusted_proxies
        )

    return web_form_web.app(form, client)
