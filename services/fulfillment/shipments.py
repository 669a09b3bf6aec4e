"""What a consumer is told about their parcel: the carrier's statuses mapped to four consumer-facing
states, and the tracking link made from the carrier's template (table `carrier`, data an operator edits).
"""

from __future__ import annotations

from urllib.parse import quote

from services.fulfillment.replies import SHIPMENT_STATUSES, InvalidRequest

# A label made and a parcel moving between depots are, to the consumer, the same news: it is on its way.
# A parcel the carrier sends back, or loses, has not reached them: failed.
CONSUMER_STATES = {
    "label_created": "shipped",
    "in_transit": "shipped",
    "out_for_delivery": "out_for_delivery",
    "delivered": "delivered",
    "returned": "failed",
    "lost": "failed",
}
TRACKING_PLACEHOLDER = "{tracking_number}"


def consumer_state(carrier_status: str) -> str:
    try:
        return CONSUMER_STATES[carrier_status]
    except KeyError:
        raise InvalidRequest(
            f"status must be one of {', '.join(SHIPMENT_STATUSES)}, not {carrier_status[:40]!r}"
        ) from None


def tracking_link(template: str, tracking_number: str) -> str:
    """The carrier's page for this parcel; "" for a carrier without a template."""
    if TRACKING_PLACEHOLDER not in template:
        return ""
    return template.replace(TRACKING_PLACEHOLDER, quote(tracking_number, safe=""))
