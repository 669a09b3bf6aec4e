"""`crs where-to-buy SKU --near POSTCODE` and `crs postcodes import FILE`.

The postcode CSV has a header and one line per postcode: `country,postcode,latitude,longitude` (the centre
of the postcode's area), as a postal authority or GeoNames publishes them.
"""

from __future__ import annotations

import csv
import json

from crs.fulfillment.v1 import fulfillment_pb2 as pb

from services.cli.fulfilment import CliError, as_dict, call, common_options, guarded

BATCH = 5000


def near(args) -> int:
    found = call(
        args,
        "WhereToBuy",
        pb.WhereToBuyRequest(sku=args.sku, postcode=args.near, country=args.country, limit=args.limit),
    )
    if args.json:
        print(json.dumps(as_dict(found)))
        return 0
    if not found.stores:
        print(f"no store near {found.postcode} ({found.country}) has {found.sku} in stock")
    for s in found.stores:
        loc = s.location
        print(f"{s.distance_km:>8.1f} km  {loc.name} ({loc.postcode}), {s.available} available")
    return 0


def read_places(path: str) -> list[pb.PostcodePlace]:
    places = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                latitude, longitude = float(row.get("latitude") or ""), float(row.get("longitude") or "")
            except ValueError:
                raise CliError(f"line {line}: latitude and longitude must be numbers") from None
            places.append(
                pb.PostcodePlace(
                    country=(row.get("country") or "").strip(),
                    postcode=(row.get("postcode") or "").strip(),
                    latitude=latitude,
                    longitude=longitude,
                )
            )
    return places


def import_places(args) -> int:
    places = read_places(args.file)
    total = 0
    for start in range(0, len(places), BATCH):
        done = call(
            args, "ImportPostcodes", pb.ImportPostcodesRequest(places=places[start : start + BATCH]), "admin"
        )
        total += done.places
    print(json.dumps({"places": total}) if args.json else f"{total} postcodes imported")
    return 0


def register(subparsers) -> None:
    finder = subparsers.add_parser(
        "where-to-buy", help="the stores nearest a postcode with a product in stock"
    )
    finder.add_argument("sku")
    finder.add_argument("--near", required=True, metavar="POSTCODE")
    finder.add_argument("--country", default="US", metavar="CC")
    finder.add_argument("--limit", type=int, default=5)
    common_options(finder)
    finder.set_defaults(func=guarded(near))
    postcodes = subparsers.add_parser("postcodes", help="import the postcode data where-to-buy places with")
    actions = postcodes.add_subparsers(dest="action", required=True, metavar="ACTION")
    importing = actions.add_parser("import", help="country,postcode,latitude,longitude lines from a CSV")
    importing.add_argument("file")
    common_options(importing)
    importing.set_defaults(func=guarded(import_places))
