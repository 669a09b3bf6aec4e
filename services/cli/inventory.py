"""`crs inventory import FILE`, `crs inventory export` and `crs inventory show SKU`: stock by location.

The CSV has a header and one line per product and location: `sku,location_id,on_hand`, and optionally
the location's own columns (`location_name,kind,country,region,postcode,latitude,longitude,serves`, with
`serves` a space-separated list of countries), which create or update the location. `on_hand` is the
counted quantity; the difference from the stored count is recorded as an adjustment. The export writes the
same columns (with `reserved` and `available` besides, which the import ignores), so an exported sheet
imports back unchanged.
"""

from __future__ import annotations

import csv
import json
import sys

from crs.fulfillment.v1 import fulfillment_pb2 as pb

from services.cli.fulfilment import CliError, as_dict, call, common_options, guarded

BATCH = 5000
EXPORT_COLUMNS = (
    "sku",
    "location_id",
    "on_hand",
    "reserved",
    "available",
    "location_name",
    "kind",
    "country",
    "region",
    "postcode",
    "latitude",
    "longitude",
    "serves",
)


def _float(text: str | None, line: int, name: str) -> float:
    try:
        return float(text) if text else 0.0
    except ValueError:
        raise CliError(f"line {line}: {name} must be a number, not {text!r}") from None


def read_rows(path: str) -> tuple[dict[str, pb.Location], list[pb.StockRow]]:
    locations: dict[str, pb.Location] = {}
    rows: list[pb.StockRow] = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            sku, location_id = (row.get("sku") or "").strip(), (row.get("location_id") or "").strip()
            count = (row.get("on_hand") or "").strip()
            if not sku or not location_id or not count.lstrip("-").isdigit():
                raise CliError(f"line {line}: needs sku, location_id and a whole on_hand")
            if row.get("kind"):
                locations[location_id] = pb.Location(
                    id=location_id,
                    name=(row.get("location_name") or location_id).strip(),
                    kind=row["kind"].strip(),
                    country=(row.get("country") or "").strip().upper(),
                    region=(row.get("region") or "").strip(),
                    postcode=(row.get("postcode") or "").strip(),
                    latitude=_float(row.get("latitude"), line, "latitude"),
                    longitude=_float(row.get("longitude"), line, "longitude"),
                    serves=(row.get("serves") or "").upper().split(),
                )
            rows.append(pb.StockRow(sku=sku, location_id=location_id, on_hand=int(count)))
    return locations, rows


def import_file(args) -> int:
    locations, rows = read_rows(args.file)
    totals = {"locations": 0, "rows": 0, "adjusted": 0}
    pending = list(locations.values())
    for start in range(0, max(len(rows), 1), BATCH):
        done = call(
            args,
            "ImportStock",
            pb.ImportStockRequest(locations=pending, rows=rows[start : start + BATCH]),
            "admin",
        )
        pending = []
        for key in totals:
            totals[key] += getattr(done, key)
    if args.json:
        print(json.dumps(totals))
    else:
        print(f"{totals['rows']} counts for {totals['locations']} locations; {totals['adjusted']} adjusted")
    return 0


def show(args) -> int:
    stock = call(args, "GetStock", pb.GetStockRequest(sku=args.sku))
    if args.json:
        print(json.dumps(as_dict(stock)))
        return 0
    print(f"{stock.sku}: {stock.available} available")
    for level in stock.levels:
        loc = level.location
        print(
            f"  {loc.id:<16} {loc.kind:<20} {loc.country} {level.on_hand:>6} on hand {level.reserved:>5} reserved"
        )
    return 0


def every_sku(args) -> list[str]:
    skus, token = [], ""
    while True:
        page = call(args, "ListProducts", pb.ListProductsRequest(page_size=500, page_token=token))
        skus.extend(product.sku for product in page.products)
        token = page.next_page_token
        if not token:
            return skus


def export_row(sku: str, level: pb.StockLevel) -> dict:
    loc = level.location
    return {
        "sku": sku,
        "location_id": loc.id,
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "available": level.available,
        "location_name": loc.name,
        "kind": loc.kind,
        "country": loc.country,
        "region": loc.region,
        "postcode": loc.postcode,
        "latitude": loc.latitude,
        "longitude": loc.longitude,
        "serves": " ".join(loc.serves),
    }


def export(args) -> int:
    skus = args.sku or every_sku(args)
    out = open(args.out, "w", newline="", encoding="utf-8") if args.out else sys.stdout
    try:
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        for sku in skus:
            stock = call(args, "GetStock", pb.GetStockRequest(sku=sku))
            for level in stock.levels:
                writer.writerow(export_row(stock.sku, level))
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("inventory", help="import and show stock by location")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    importing = actions.add_parser("import", help="import counted stock (and locations) from a CSV")
    importing.add_argument("file")
    common_options(importing)
    importing.set_defaults(func=guarded(import_file))
    exporting = actions.add_parser("export", help="write stock by product and location as a CSV")
    exporting.add_argument(
        "--sku", action="append", help="only this product (repeatable; default: every product)"
    )
    exporting.add_argument("--out", metavar="FILE", help="write to FILE (default: standard output)")
    common_options(exporting, json_flag=False)
    exporting.set_defaults(func=guarded(export))
    showing = actions.add_parser("show", help="a product's stock at every location")
    showing.add_argument("sku")
    common_options(showing)
    showing.set_defaults(func=guarded(show))
