"""A consumer's page, the new-consumer form, and the catalogue the capture form picks products from."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from crs.billing.v1 import billing_pb2
from crs.contacts.v1 import contacts_pb2
from crs.fulfillment.v1 import fulfillment_pb2
from crs.outreach.v1 import consent_pb2

from services.console.clients import as_words
from services.console.permissions import audited, requires
from services.console.web import context, error_text, principal, render

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
MAX_NAME = 200
MAX_ID = 64


async def _ask(request: web.Request, method, message) -> tuple[dict[str, Any] | None, str | None]:
    """One source's answer, or why there is none: a late or failed source is a gap, never an error page."""
    ctx = context(request)
    try:
        reply = await ctx.clients.call(method, message, principal(request), deadline=ctx.page_deadline)
    except Exception as exc:
        return None, error_text(exc)
    return as_words(reply), None


@routes.get("/consumers/new")
@requires("consumers.create")
async def new_consumer(request: web.Request) -> web.Response:
    number = request.query.get("number", "")[:40]
    return render(request, "consumer_new.html", consumer_name="", number=number, error="")


@routes.get("/consumers/{consumer_id}")
@requires("consumers.read")
@audited("consumer.read", "consumer_id")
async def consumer_page(request: web.Request) -> web.Response:
    consumer_id = request.match_info["consumer_id"]
    if len(consumer_id) > MAX_ID:
        return render(request, "denied.html", status=404, message="no such consumer")
    c = context(request).clients
    (
        (consumer, c_err),
        (contacts, h_err),
        (account, b_err),
        (ledger, _),
        (history, f_err),
        (consent, o_err),
    ) = await asyncio.gather(
        _ask(request, c.contacts.GetConsumer, contacts_pb2.GetConsumerRequest(id=consumer_id)),
        _ask(
            request,
            c.contacts.ListRecentContacts,
            contacts_pb2.ListRecentContactsRequest(consumer_id=consumer_id, limit=20),
        ),
        _ask(
            request,
            c.billing.GetAccountSummary,
            billing_pb2.GetAccountSummaryRequest(consumer_id=consumer_id),
        ),
        _ask(
            request,
            c.billing.ListLedgerEntries,
            billing_pb2.ListLedgerEntriesRequest(consumer_id=consumer_id, limit=10),
        ),
        _ask(
            request,
            c.fulfillment.GetPurchaseHistory,
            fulfillment_pb2.GetPurchaseHistoryRequest(
                consumer_id=consumer_id, last_orders=10, top_products=5
            ),
        ),
        _ask(request, c.consent.GetConsent, consent_pb2.GetConsentRequest(consumer_id=consumer_id)),
    )
    if consumer is None:
        status = 404 if c_err == "not found" else 503
        message = f"This consumer could not be shown: {c_err or 'unknown error'}."
        return render(request, "denied.html", status=status, message=message)
    return render(
        request,
        "consumer.html",
        consumer=consumer,
        account=account,
        billing_gap=b_err,
        ledger=(ledger or {}).get("entries", []),
        history=history,
        purchases_gap=f_err,
        contacts=None if contacts is None else contacts.get("contacts", []),
        contacts_gap=h_err,
        consent=None if consent is None else consent.get("entries", []),
        consent_gap=o_err,
    )


@routes.post("/consumers/{consumer_id}/consent")
@requires("consent.manage")
async def change_consent(request: web.Request) -> web.Response:
    """POST (form: purpose, channel, granted=yes|no): outreach records it as this agent's; back to the page."""
    consumer_id = request.match_info["consumer_id"][:MAX_ID]
    form = await request.post()
    ctx = context(request)
    change = consent_pb2.SetConsentRequest(
        consumer_id=consumer_id,
        purpose=str(form.get("purpose", ""))[:20],
        channel=str(form.get("channel", ""))[:20],
        granted=form.get("granted") == "yes",
    )
    await ctx.clients.call(ctx.clients.consent.SetConsent, change, principal(request))
    raise web.HTTPSeeOther(f"/consumers/{consumer_id}#consent")


@routes.post("/consumers")
@requires("consumers.create")
async def create_consumer(request: web.Request) -> web.Response:
    form = await request.post()
    name = str(form.get("name", "")).strip()
    number = str(form.get("number", "")).strip()[:40]
    if not name or len(name) > MAX_NAME:
        return render(
            request,
            "consumer_new.html",
            status=400,
            consumer_name=name[:MAX_NAME],
            number=number,
            error="A name is needed.",
        )
    ctx = context(request)
    consumer = contacts_pb2.Consumer(name=name, language=str(form.get("language", "en")).strip()[:35] or "en")
    if number:
        consumer.phones.append(contacts_pb2.PhoneNumber(number=number, type="other"))
    email = str(form.get("email", "")).strip()[:254]
    if email:
        consumer.emails.append(contacts_pb2.Email(address=email, type="personal"))
    try:
        created = await ctx.clients.call(
            ctx.clients.contacts.CreateConsumer,
            contacts_pb2.CreateConsumerRequest(consumer=consumer, region=ctx.region),
            principal(request),
            deadline=ctx.page_deadline * 2,
        )
    except Exception as exc:
        log.warning("creating a consumer failed: %s", type(exc).__name__)
        message = error_text(exc)
        return render(
            request,
            "consumer_new.html",
            status=400,
            consumer_name=name,
            number=number,
            error=message[:1].upper() + message[1:],
        )
    raise web.HTTPSeeOther(f"/consumers/{created.id}")


@routes.get("/api/consumers/{consumer_id}")
@requires("consumers.read")
@audited("consumer.read", "consumer_id")
async def api_consumer(request: web.Request) -> web.Response:
    """GET -> the consumer: {"id", "name", "phones": [{"number", "type"}], "emails", "addresses", ...}."""
    consumer_id = request.match_info["consumer_id"]
    ctx = context(request)
    reply = await ctx.clients.call(
        ctx.clients.contacts.GetConsumer,
        contacts_pb2.GetConsumerRequest(id=consumer_id[:MAX_ID]),
        principal(request),
    )
    return web.json_response(as_words(reply))


def _product(product: dict[str, Any], bought: bool) -> dict[str, Any]:
    return {
        "sku": product.get("sku", ""),
        "upc": product.get("upc", ""),
        "name": product.get("name", ""),
        "size": product.get("size", ""),
        "bought": bought,
    }


@routes.get("/api/catalogue")
@requires("catalogue.read")
async def catalogue(request: web.Request) -> web.Response:
    """GET ?consumer_id=&q= -> {"products": [{"sku", "upc", "name", "size", "bought"}]}.

    The consumer's own purchases come first (most recent first), then the catalogue's matches for `q`.
    """
    ctx = context(request)
    who = principal(request)
    consumer_id = request.query.get("consumer_id", "")[:MAX_ID]
    query = request.query.get("q", "")[:100]
    products: list[dict[str, Any]] = []
    seen: set[str] = set()
    if consumer_id:
        history = await ctx.clients.call(
            ctx.clients.fulfillment.GetPurchaseHistory,
            fulfillment_pb2.GetPurchaseHistoryRequest(
                consumer_id=consumer_id, last_orders=20, top_products=0
            ),
            who,
        )
        for order in as_words(history).get("orders", []):
            for line in order.get("lines", []):
                product = line.get("product") or {}
                if product.get("sku") and product["sku"] not in seen:
                    seen.add(product["sku"])
                    products.append(_product(product, bought=True))
    listed = await ctx.clients.call(
        ctx.clients.fulfillment.ListProducts,
        fulfillment_pb2.ListProductsRequest(page_size=50, query=query),
        who,
    )
    for product in as_words(listed).get("products", []):
        if product.get("sku") not in seen:
            seen.add(product.get("sku"))
            products.append(_product(product, bought=False))
    return web.json_response({"products": products})
