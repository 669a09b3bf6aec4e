"""`crs orders import FILE`: sales from a shop's till or a marketplace, one order line a row.

The header names `order_id,placed_at,consumer_id,sku,quantity,location_id` and optionally `channel,
status,currency,unit_price_minor`. Importing the same file again adds nothing (orders are known by
`order_id`). Rows that cannot be taken are listed by line with why; the other orders are kept.
"""

from __future__ import annotations

import json
import os

from crs.fulfillment.v1 import fulfillment_pb2 as pb

from services.cli.fulfilment import CliError, as_dict, call, common_options, guarded

# Under gRPC's 4 MiB message limit; a larger export is split by the operator (about 30,000 rows a file).
MAX_BYTES = 3 * 1024 * 1024


def import_file(args) -> int:
    try:
        if os.path.getsize(args.file) > MAX_BYTES:
            raise CliError(
                f"{args.file} is over {MAX_BYTES // 1024 // 1024} MiB: split it into smaller files"
            )
        with open(args.file, encoding="utf-8-sig") as handle:
            text = handle.read()
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CliError(f"{args.file} is not UTF-8 text") from None
    done = call(args, "ImportOrders", pb.ImportOrdersRequest(csv=text), "admin")
    if args.json:
        print(json.dumps(as_dict(done) | {"rejected": [as_dict(r) for r in done.rejected]}))
    else:
        print(
            f"{done.orders_added} orders added ({done.lines_added} lines), {done.orders_already_imported}"
            f" already imported; {done.units_taken_from_stock} units taken from stock"
        )
        for rejected in done.rejected:
            print(f"  line {rejected.line}: {rejected.reason}")
    return 1 if done.rejected else 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("orders", help="import sales orders")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    importing = actions.add_parser("import", help="import orders from a CSV (idempotent by order_id)")
    importing.add_argument("file")
    common_options(importing)
    importing.set_defaults(func=guarded(import_file))
