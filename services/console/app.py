"""The console's aiohttp application: the one set of security headers, authentication, and every area."""

from __future__ import annotations

import pathlib

from aiohttp import web

from services.console import present, survey_web
from services.console.permissions import public
from services.console.routes import (
    admin,
    auth,
    campaigns,
    cases,
    chat,
    chat_files,
    consumers,
    fulfillment,
    fulfillment_admin,
    inbox,
    insights,
    insights_themes,
    knowledge,
    letters,
    letters_admin,
    mail_sink,
    messages,
    pops,
    probes,
    recalls,
    recordings,
    regulatory,
    reply_templates,
    reports,
    rights,
    segments,
    stakeholders,
    survey_answers,
    survey_rules,
    unsubscribe,
    web_form,
)
from services.console.web import CONTEXT, Context, api_errors, authenticate, transport_security
from services.runtime import pages

STATIC = pathlib.Path(__file__).resolve().parent / "static"
AREAS = (
    auth,
    pops,
    chat,
    chat_files,
    consumers,
    cases,
    fulfillment,
    fulfillment_admin,
    letters_admin,
    insights,
    reports,
    insights_themes,
    knowledge,
    messages,
    reply_templates,
    mail_sink,
    recordings,
    letters,
    admin,
    probes,
    rights,
    web_form,
    inbox,
    regulatory,
    recalls,
    unsubscribe,
    stakeholders,
    segments,
    campaigns,
    survey_rules,
    survey_answers,
)


def build_app(ctx: Context) -> web.Application:
    ctx.templates.filters.update(present.FILTERS)
    app = web.Application(
        middlewares=[transport_security, pages.security_headers, authenticate, api_errors],
        client_max_size=256 * 1024,
    )
    app[CONTEXT] = ctx
    app[survey_web.DESK] = survey_answers.OutreachSurveys(ctx.clients)
    for area in AREAS:
        app.add_routes(area.routes)
    pages.add_static(app, STATIC)
    for route in app.router.routes():
        if route.resource is not None and route.resource.canonical.startswith(pages.STATIC_PREFIX):
            public(route.handler)
    return app
