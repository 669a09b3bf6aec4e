"""Channels' Prometheus instruments: what became of inbound mail, of replies, and of chats."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

INBOUND = Counter(
    "crs_channels_inbound_total",
    "Inbound messages by outcome: new_case, threaded, or the reason it was refused",
    ["outcome"],
)
OUTBOUND = Counter("crs_channels_outbound_total", "Replies by outcome: sent or failed", ["outcome"])
NOTICES = Counter(
    "crs_channels_notices_total", "Notices (email tied to no case) by outcome: sent or failed", ["outcome"]
)


async def notice_delivered(item) -> None:
    NOTICES.labels("sent").inc()


async def notice_failed(item, error: str) -> None:
    NOTICES.labels("failed").inc()


CHATS = Counter("crs_channels_chats_total", "Chats routed to an agent")
CHAT_REFUSED = Counter(
    "crs_channels_chat_refused_total",
    "Chat connections or frames refused: origin, rate or invalid",
    ["reason"],
)


def inbound(outcome) -> None:
    INBOUND.labels(outcome.rejected or ("new_case" if outcome.created else "threaded")).inc()


WEB_FORM_DEFLECTIONS = Counter(
    "crs_channels_web_form_deflections_total",
    "Web-form consumers who said a suggested article answered them and sent nothing",
)
IMAP_UNREAD = Gauge(
    "crs_channels_imap_unread_seconds",
    "Seconds since each IMAP mailbox was last read through",
    ["mailbox"],
)
IMAP_STALE = Gauge(
    "crs_channels_imap_stale",
    "1 while an IMAP mailbox has not been read for CRS_CHANNELS_IMAP_STALE_SECONDS (an alert), else 0",
    ["mailbox"],
)


def imap_health(mailbox: str, unread_seconds: float, stale: bool) -> None:
    IMAP_UNREAD.labels(mailbox).set(unread_seconds)
    IMAP_STALE.labels(mailbox).set(1 if stale else 0)
