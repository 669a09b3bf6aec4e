"""Channels' Prometheus instruments: what became of inbound mail, of replies, and of chats."""

from __future__ import annotations

from prometheus_client import Counter

INBOUND = Counter(
    "crs_channels_inbound_total",
    "Inbound messages by outcome: new_case, threaded, or the reason it was refused",
    ["outcome"],
)
OUTBOUND = Counter("crs_channels_outbound_total", "Replies by outcome: sent or failed", ["outcome"])
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
