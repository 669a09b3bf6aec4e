"""Where to buy: the stores nearest a consumer's postcode that carry a product and have it in stock.

A postcode is placed at its centre from the `postcode` table (data shipped with a package or imported,
never fetched); the stores are ranked by great-circle distance from there.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Protocol

from services.fulfillment.replies import InvalidRequest, NotFound

EARTH_RADIUS_KM = 6371.0088
DEFAULT_LIMIT = 5
MAX_LIMIT = 50
# Where to buy looks within these distances of the postcode in turn, then everywhere.
SEARCH_RADII_KM = (25.0, 100.0, 400.0, 1600.0)
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


@dataclass(frozen=True)
class Query:
    sku: str
    country: str
    postcode: str
    limit: int


def normalise_postcode(country: str, postcode: str) -> str:
    """One spelling per postcode: capitals and digits only; a US ZIP+4 is its five-digit ZIP."""
    folded = _NOT_ALNUM.sub("", (postcode or "").upper())
    if country == "US":
        folded = folded[:5]
    return folded


def validate(*, sku: str, country: str, postcode: str, limit: int) -> Query:
    sku = (sku or "").strip()
    if not sku or len(sku) > 64:
        raise InvalidRequest("sku is required")
    country = (country or "US").strip().upper()
    if not _COUNTRY.match(country):
        raise InvalidRequest(f"country: a two-letter code, not {country[:10]!r}")
    folded = normalise_postcode(country, postcode)
    if not folded or len(folded) > 12:
        raise InvalidRequest(f"postcode: not a postcode: {str(postcode)[:20]!r}")
    if limit < 0 or limit > MAX_LIMIT:
        raise InvalidRequest(f"limit: from 1 to {MAX_LIMIT}")
    return Query(sku, country, folded, limit or DEFAULT_LIMIT)


def box(latitude: float, longitude: float, radius_km: float) -> dict[str, float] | None:
    """The latitude and longitude ranges that hold every point within `radius_km`; None when the box
    would reach a pole or cross the date line (then the search is everywhere)."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    south, north = latitude - dlat, latitude + dlat
    if south <= -89 or north >= 89:
        return None
    # The widest longitude span is at the latitude furthest from the equator.
    widest = max(abs(south), abs(north))
    dlon = math.degrees(radius_km / (EARTH_RADIUS_KM * math.cos(math.radians(widest))))
    west, east = longitude - dlon, longitude + dlon
    if west < -180 or east > 180:
        return None
    return {"south": south, "north": north, "west": west, "east": east}


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), as the SQL ranks them."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class Nearby:
    location: tuple  # the stock query's location columns
    available: int
    distance_km: float


@dataclass(frozen=True)
class Answer:
    query: Query
    latitude: float
    longitude: float
    stores: list[Nearby]


class Places(Protocol):
    async def place_postcode(self, country: str, postcode: str) -> tuple[float, float] | None: ...

    async def nearest_stores(self, sku: str, latitude: float, longitude: float, limit: int) -> list[Nearby]:
        """Stores with the product available, nearest first."""


async def find(places: Places, query: Query) -> Answer:
    placed = await places.place_postcode(query.country, query.postcode)
    if placed is None:
        raise NotFound(f"postcode {query.postcode} ({query.country}) is not in the postcode data; import it")
    latitude, longitude = placed
    stores = await places.nearest_stores(query.sku, latitude, longitude, query.limit)
    return Answer(query, latitude, longitude, stores)


def places_from_rows(rows: list[tuple[str, str, float, float]]) -> list[tuple[str, str, float, float]]:
    """Imported lines checked and normalised: (country, postcode, latitude, longitude)."""
    checked = []
    for country, postcode, latitude, longitude in rows:
        country = (country or "").strip().upper()
        if not _COUNTRY.match(country):
            raise InvalidRequest(f"{postcode!r}: country must be two letters, not {country[:10]!r}")
        folded = normalise_postcode(country, postcode)
        if not folded or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise InvalidRequest(f"{country} {postcode!r}: needs a postcode and coordinates on the globe")
        checked.append((country, folded, latitude, longitude))
    return checked
