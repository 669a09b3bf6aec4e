"""The consumer read model's rows, made from contacts' `consumer_created` and `consumer_updated` events.

Contacts holds no time zone, region or attributes for a consumer, so:
- the email is the consumer's first address (contacts keeps them in the order the agent gave them);
- the postal address and region are the first postal address's: the region is its ISO 3166-2 code
  (`US-CA`, `GB-ENG`) when the address names a subdivision by code, else its country (`FR`);
- the time zone is the subdivision's for the countries that span several (US, CA, AU, BR, MX, RU: the
  zone most of its people live in), else the country's main zone, else UTC. A consumer with no address is
  in UTC; quiet hours then fall on UTC nights, which defers rather than drops;
- attributes are empty until contacts holds some.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

EVENT_TYPES = ("consumer_created", "consumer_updated")
_SUBDIVISION = re.compile(r"^[A-Z0-9]{1,3}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}")

# Countries in one zone, or whose people mostly live in one, by ISO 3166-1 code.
COUNTRY_ZONES: Mapping[str, str] = {
    "GB": "Europe/London", "IE": "Europe/Dublin", "FR": "Europe/Paris", "DE": "Europe/Berlin",
    "ES": "Europe/Madrid", "PT": "Europe/Lisbon", "IT": "Europe/Rome", "NL": "Europe/Amsterdam",
    "BE": "Europe/Brussels", "LU": "Europe/Luxembourg", "CH": "Europe/Zurich", "AT": "Europe/Vienna",
    "DK": "Europe/Copenhagen", "SE": "Europe/Stockholm", "NO": "Europe/Oslo", "FI": "Europe/Helsinki",
    "PL": "Europe/Warsaw", "CZ": "Europe/Prague", "SK": "Europe/Bratislava", "HU": "Europe/Budapest",
    "RO": "Europe/Bucharest", "BG": "Europe/Sofia", "GR": "Europe/Athens", "HR": "Europe/Zagreb",
    "SI": "Europe/Ljubljana", "EE": "Europe/Tallinn", "LV": "Europe/Riga", "LT": "Europe/Vilnius",
    "CY": "Asia/Nicosia", "MT": "Europe/Malta", "IS": "Atlantic/Reykjavik", "TR": "Europe/Istanbul",
    "UA": "Europe/Kyiv", "RU": "Europe/Moscow", "US": "America/New_York", "CA": "America/Toronto",
    "MX": "America/Mexico_City", "BR": "America/Sao_Paulo", "AR": "America/Argentina/Buenos_Aires",
    "CL": "America/Santiago", "CO": "America/Bogota", "PE": "America/Lima", "AU": "Australia/Sydney",
    "NZ": "Pacific/Auckland", "JP": "Asia/Tokyo", "KR": "Asia/Seoul", "CN": "Asia/Shanghai",
    "HK": "Asia/Hong_Kong", "TW": "Asia/Taipei", "SG": "Asia/Singapore", "IN": "Asia/Kolkata",
    "ZA": "Africa/Johannesburg", "AE": "Asia/Dubai", "IL": "Asia/Jerusalem", "MA": "Africa/Casablanca",
}  # fmt: skip
# Subdivisions whose zone differs from their country's main one, by ISO 3166-2 code.
_SUBDIVISION_ZONES: Mapping[str, str] = {
    **dict.fromkeys(
        ("US-" + s for s in "AL AR IL IA KS LA MN MS MO NE ND OK SD TN TX WI".split()), "America/Chicago"
    ),
    **dict.fromkeys(("US-" + s for s in "CO MT NM UT WY ID".split()), "America/Denver"),
    "US-AZ": "America/Phoenix",
    **dict.fromkeys(("US-" + s for s in "CA NV OR WA".split()), "America/Los_Angeles"),
    "US-AK": "America/Anchorage",
    "US-HI": "Pacific/Honolulu",
    "CA-BC": "America/Vancouver",
    "CA-AB": "America/Edmonton",
    "CA-SK": "America/Regina",
    "CA-MB": "America/Winnipeg",
    **dict.fromkeys(("CA-NS", "CA-NB", "CA-PE"), "America/Halifax"),
    "CA-NL": "America/St_Johns",
    "AU-WA": "Australia/Perth",
    "AU-SA": "Australia/Adelaide",
    "AU-NT": "Australia/Darwin",
    "AU-QLD": "Australia/Brisbane",
    "AU-VIC": "Australia/Melbourne",
    "AU-TAS": "Australia/Hobart",
    "MX-BCN": "America/Tijuana",
    "BR-AM": "America/Manaus",
    "RU-SVE": "Asia/Yekaterinburg",
    "RU-NVS": "Asia/Novosibirsk",
    "RU-PRI": "Asia/Vladivostok",
}


class NotAConsumer(ValueError):
    """An event whose payload carries no consumer id; it is logged and dropped."""


@dataclass(frozen=True)
class ConsumerRow:
    consumer_id: str
    email: str
    language: str
    time_zone: str
    region: str
    updated_at: datetime
    attributes: Mapping[str, str] = field(default_factory=dict)
    postal_address: Mapping[str, Any] | None = None

    @classmethod
    def from_event(cls, data: Mapping[str, Any], occurred_at: datetime) -> ConsumerRow:
        """The row from a consumer event's data (protobuf's JSON of crs.contacts.v1.Consumer)."""
        consumer = data.get("consumer") if isinstance(data, Mapping) else None
        if not isinstance(consumer, Mapping) or not str(consumer.get("id") or ""):
            raise NotAConsumer("the event carries no consumer id")
        emails = [e for e in consumer.get("emails") or () if isinstance(e, Mapping) and e.get("address")]
        addresses = [a for a in consumer.get("addresses") or () if isinstance(a, Mapping)]
        address = dict(addresses[0]) if addresses else None
        region = region_of(address)
        return cls(
            consumer_id=str(consumer["id"]),
            email=str(emails[0]["address"]).strip() if emails else "",
            language=language_of(str(consumer.get("language") or "")),
            time_zone=zone_of(region),
            region=region,
            updated_at=_time(consumer.get("updated_at") or consumer.get("created_at")) or occurred_at,
            postal_address=address,
        )


def language_of(tag: str) -> str:
    """The primary language subtag, lower case (`fr-CA` -> `fr`); "en" when none is given."""
    match = _LANGUAGE.match(tag.strip())
    return match.group(0).lower() if match else "en"


def region_of(address: Mapping[str, Any] | None) -> str:
    if not address:
        return ""
    country = str(address.get("region_code") or "").strip().upper()
    area = str(address.get("administrative_area") or "").strip().upper()
    if country and _SUBDIVISION.match(area):
        return f"{country}-{area}"
    return country


def zone_of(region: str) -> str:
    return _SUBDIVISION_ZONES.get(region) or COUNTRY_ZONES.get(region.split("-")[0], "UTC")


def _time(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
    except ValueError:
        return None
