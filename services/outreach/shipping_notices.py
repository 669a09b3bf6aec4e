"""Shipping notices: what fulfillment's `shipment_changed` tells a consumer, in their language, once per state.

A parcel's journey has four states a consumer hears of: shipped, out for delivery, delivered, failed
(fulfillment maps its carriers' statuses onto them, docs/fulfillment.md). Each (fulfillment, state) is one
notice, whatever the number of carrier scans or redeliveries behind it. A service message needs no
marketing or survey consent; only a withdrawn *service* consent on email stops it. A notice that cannot go
yet (no address known, the relay refused) waits and is tried again until it is too old to be news; one
whose parcel's later state has already been told is not sent at all ("shipped" after "delivered"
misleads). States that arrive together (a carrier's batch, a backlog) are each told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.outreach.campaign_sender import Notice
from services.outreach.reach import Reach

SOURCE, EVENT_TYPE = "fulfillment", "shipment_changed"
PURPOSE = "service"
# Each state's place along the journey: a notice is overtaken by a later place, never by a sibling.
JOURNEY = {"shipped": 1, "out_for_delivery": 2, "delivered": 3, "failed": 3}
STATES = tuple(JOURNEY)
# Past this a shipping notice is no longer news: a "shipped" email a week late helps nobody.
NEWS_FOR = timedelta(days=3)
# How long a notice that could not go waits before it is tried again.
RETRY_AFTER = timedelta(minutes=5)
DEFAULT_LANGUAGE = "en"


class NotAShipment(ValueError):
    """The payload is not a shipment event outreach can read (a field missing, an unknown state)."""


@dataclass(frozen=True)
class ShipmentNews:
    fulfillment_id: str
    case_id: str
    consumer_id: str
    state: str
    carrier: str
    tracking_number: str
    tracking_url: str
    occurred_at: datetime

    @classmethod
    def from_event(cls, data: dict, occurred_at: datetime) -> ShipmentNews:
        state = str(data.get("state") or "")
        if state not in JOURNEY:
            raise NotAShipment(f"state must be one of {', '.join(STATES)}, not {state[:40]!r}")
        fields = {name: str(data.get(name) or "") for name in ("fulfillment_id", "consumer_id")}
        missing = [name for name, value in fields.items() if not value]
        if missing:
            raise NotAShipment(f"no {', '.join(missing)}")
        return cls(
            case_id=str(data.get("case_id") or ""),
            state=state,
            carrier=str(data.get("carrier") or ""),
            tracking_number=str(data.get("tracking_number") or ""),
            tracking_url=str(data.get("tracking_url") or ""),
            occurred_at=occurred_at,
            **fields,
        )

    @property
    def key(self) -> str:
        """The notice's natural key, and its idempotency key at channels: the same key is sent once."""
        return f"shipment:{self.fulfillment_id}:{self.state}"


# Subject and first line per state, per language; the tracking line follows.
TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "shipped": ("Your parcel is on its way", "Your parcel has been sent."),
        "out_for_delivery": ("Your parcel arrives today", "Your parcel is out for delivery today."),
        "delivered": ("Your parcel has been delivered", "Your parcel has been delivered."),
        "failed": (
            "Your parcel could not be delivered",
            "Your parcel could not be delivered. We will be in touch about what happens next.",
        ),
    },
    "fr": {
        "shipped": ("Votre colis est en route", "Votre colis a été expédié."),
        "out_for_delivery": (
            "Votre colis arrive aujourd'hui",
            "Votre colis est en cours de livraison aujourd'hui.",
        ),
        "delivered": ("Votre colis a été livré", "Votre colis a été livré."),
        "failed": (
            "Votre colis n'a pas pu être livré",
            "Votre colis n'a pas pu être livré. Nous vous recontacterons pour la suite.",
        ),
    },
    "es": {
        "shipped": ("Su paquete está en camino", "Su paquete ha sido enviado."),
        "out_for_delivery": ("Su paquete llega hoy", "Su paquete está en reparto hoy."),
        "delivered": ("Su paquete ha sido entregado", "Su paquete ha sido entregado."),
        "failed": (
            "No se pudo entregar su paquete",
            "No se pudo entregar su paquete. Nos pondremos en contacto con usted sobre los próximos pasos.",
        ),
    },
    "de": {
        "shipped": ("Ihr Paket ist unterwegs", "Ihr Paket wurde versandt."),
        "out_for_delivery": ("Ihr Paket kommt heute", "Ihr Paket ist heute in der Zustellung."),
        "delivered": ("Ihr Paket wurde zugestellt", "Ihr Paket wurde zugestellt."),
        "failed": (
            "Ihr Paket konnte nicht zugestellt werden",
            "Ihr Paket konnte nicht zugestellt werden. Wir melden uns bei Ihnen zum weiteren Vorgehen.",
        ),
    },
}
TRACK_WITH_LINK = {
    "en": "Track it: {url}",
    "fr": "Suivre le colis : {url}",
    "es": "Seguimiento: {url}",
    "de": "Sendungsverfolgung: {url}",
}
TRACK_WITHOUT_LINK = {
    "en": "Tracking number: {number} ({carrier})",
    "fr": "Numéro de suivi : {number} ({carrier})",
    "es": "Número de seguimiento: {number} ({carrier})",
    "de": "Sendungsnummer: {number} ({carrier})",
}


def language_of(tag: str) -> str:
    """The language the notice is written in: the tag's primary subtag when we have its texts, else English."""
    primary = (tag or "").replace("_", "-").split("-")[0].strip().lower()
    return primary if primary in TEXTS else DEFAULT_LANGUAGE


def compose(news: ShipmentNews, language_tag: str) -> tuple[str, str]:
    """Subject and plain-text body: the state's news and the tracking link (or number) in the language."""
    language = language_of(language_tag)
    subject, line = TEXTS[language][news.state]
    if news.tracking_url:
        tracking = TRACK_WITH_LINK[language].format(url=news.tracking_url)
    elif news.tracking_number:
        tracking = TRACK_WITHOUT_LINK[language].format(number=news.tracking_number, carrier=news.carrier)
    else:
        tracking = ""
    return subject, "\n\n".join(part for part in (line, tracking) if part) + "\n"


@dataclass(frozen=True)
class Decision:
    outcome: str  # send, wait (tried again at `retry_at`), or an end: suppressed, superseded, expired
    reason: str = ""
    retry_at: datetime | None = None


def decide(
    news: ShipmentNews,
    reach: Reach | None,
    *,
    service_withdrawn: bool,
    overtaken: bool,
    now: datetime,
) -> Decision:
    """What to do with one pending notice now."""
    if overtaken:
        return Decision("superseded", "a later state of the parcel was told first")
    if now - news.occurred_at > NEWS_FOR:
        return Decision("expired", f"not sent within {NEWS_FOR.days} days")
    if service_withdrawn:
        return Decision("suppressed", "service messages by email withdrawn")
    if reach is None or "@" not in reach.email:
        return Decision("wait", "no email address known yet", now + RETRY_AFTER)
    return Decision("send")


def notice(news: ShipmentNews, reach: Reach) -> Notice:
    subject, body = compose(news, reach.language)
    return Notice(news.key, reach.email, subject, body, PURPOSE, language=language_of(reach.language))
