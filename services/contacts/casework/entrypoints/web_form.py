"""The public web form: consumers write in from the company's site; each submission becomes a case.

The form is validated by the same rules as every other entrance, and written in one transaction with its
event, so a rejected form leaves no row behind. Each client address may send a few forms a minute.
"""

from __future__ import annotations

import math
import pathlib
import time
from dataclasses import dataclass, field

from aiohttp import web

from services.contacts.casework.exceptions import InvalidInput
from services.contacts.casework.service import Casework
from services.runtime import pages

TOPICS = {
    "question": "A question",
    "complaint": "A problem with a product",
    "compliment": "A compliment",
    "suggestion": "A suggestion",
}
ACTOR = "web-form"
MAX_FORM = 64 * 1024
FORM_FIELDS = {
    "name",
    "email",
    "phone",
    "topic",
    "product",
    "sku",
    "lot_code",
    "best_by",
    "store",
    "location",
    "purchased_on",
    "message",
    "language",
    "website",
}


class RateLimiter:
    """A token bucket per client address: `burst` forms at once, then `per_minute` a minute."""

    def __init__(self, *, per_minute: float, burst: int, max_clients: int = 100_000):
        self.rate = per_minute / 60.0
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client: str, now: float | None = None) -> float:
        """0 when the client may send now; otherwise the seconds to wait."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.get(client, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate
        if len(self._buckets) >= self.max_clients and client not in self._buckets:
            # Forget the fullest buckets first: they belong to clients who are not sending.
            for key in [k for k, (t, _) in self._buckets.items() if t >= self.burst - 1][
                : self.max_clients // 10
            ]:
                del self._buckets[key]
        self._buckets[client] = (tokens - 1, now)
        return 0.0


@dataclass
class Intake:
    casework: Casework
    limiter: RateLimiter
    trusted_proxies: frozenset[str] = field(default_factory=frozenset)

    def client(self, request: web.Request) -> str:
        remote = request.remote or "unknown"
        forwarded = request.headers.get("X-Forwarded-For", "")
        if remote in self.trusted_proxies and forwarded:
            return forwarded.split(",")[-1].strip()[:64]
        return remote


INTAKE = web.AppKey("intake", Intake)


def to_case(form: dict) -> dict:
    """The form's fields as a case; the message is the consumer's verbatim, kept exactly."""
    unknown = set(form) - FORM_FIELDS
    if unknown:
        raise InvalidInput(f"{sorted(unknown)[0][:40]}: not a field of this form")
    values = {k: v for k, v in form.items()}
    for key, value in values.items():
        if not isinstance(value, str):
            raise InvalidInput(f"{key}: must be text")
    topic = values.get("topic", "")
    if topic not in TOPICS:
        raise InvalidInput(f"topic: choose one of {', '.join(TOPICS)}")
    message = values.get("message", "")
    if len(message.strip()) < 5:
        raise InvalidInput("message: tell us in a few words what happened")
    if not values.get("email", "").strip() and not values.get("phone", "").strip():
        raise InvalidInput("email: give an email address or a phone number so that we can answer you")
    if not values.get("name", "").strip():
        raise InvalidInput("name: tell us your name")
    return {
        "channel": "web",
        "direction": "inbound",
        "issue_code": topic,
        "verbatim": message,
        "language": values.get("language") or "en",
        "reporter": {
            "name": values.get("name"),
            "email": values.get("email", "").strip(),
            "phone": values.get("phone", "").strip(),
        },
        "product": {
            "name": values.get("product"),
            "sku": values.get("sku"),
            "lot_code": values.get("lot_code"),
            "best_by": values.get("best_by"),
            "purchase_store": values.get("store"),
            "purchase_location": values.get("location"),
            "purchased_on": values.get("purchased_on"),
        },
    }


# Under web/, which the package data takes along (pyproject.toml).
WEB = pathlib.Path(__file__).resolve().parent / "web"
TEMPLATES = pages.templates(WEB / "templates")


def form_page(*, error: str = "", values: dict | None = None, status: int = 200) -> web.Response:
    return pages.render(
        TEMPLATES, "intake_form.html", status=status, error=error, values=values or {}, topics=TOPICS
    )


def thanks_page(reference: int) -> web.Response:
    return pages.render(TEMPLATES, "intake_thanks.html", status=201, reference=reference)


async def show_form(request: web.Request) -> web.Response:
    return form_page()


async def submit(request: web.Request) -> web.Response:
    """POST /intake: JSON in, JSON out; a form post gets a page back."""
    intake = request.app[INTAKE]
    wants_json = request.content_type == "application/json"
    wait = intake.limiter.take(intake.client(request))
    if wait:
        message = "too many messages from your address; please try again in a minute"
        headers = {"Retry-After": str(math.ceil(wait))}
        if wants_json:
            return web.json_response({"error": message}, status=429, headers=headers)
        return web.Response(text=message, status=429, headers=headers)
    form: dict = {}
    try:
        if wants_json:
            try:
                form = await request.json()
            except (ValueError, UnicodeDecodeError):
                raise InvalidInput("the body is not valid JSON") from None
            if not isinstance(form, dict):
                raise InvalidInput("the body must be a JSON object")
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        else:
            raise InvalidInput("send the form as application/json or as a web form")
        if form.get("website"):
            # Only bots fill the hidden field: answer as if it worked, keep nothing.
            return web.json_response({"reference": 0}, status=201) if wants_json else thanks_page(0)
        form.pop("website", None)
        case = await intake.casework.create(data=to_case(form), actor=ACTOR)
    except InvalidInput as exc:
        if wants_json:
            return web.json_response({"error": str(exc)}, status=400)
        shown = {k: v for k, v in form.items() if isinstance(v, str)}
        return form_page(error=str(exc), values=shown, status=400)
    if wants_json:
        return web.json_response({"reference": case.reference}, status=201)
    return thanks_page(case.reference)


def install(app: web.Application, intake: Intake) -> None:
    """The form's routes, with the shared security headers and the form's own static files."""
    app[INTAKE] = intake
    app.middlewares.append(pages.security_headers)
    pages.add_static(app, WEB / "static")
    app.router.add_get("/intake", show_form)
    app.router.add_post("/intake", submit)
