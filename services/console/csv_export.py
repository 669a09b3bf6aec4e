"""CSV downloads for every report and chart, with every cell made safe to open in a spreadsheet
(services/runtime/csv_safe.py)."""

from __future__ import annotations

import io

from aiohttp import web

from services.runtime import csv_safe


def csv_response(name: str, header: list[str], rows: list[list]) -> web.Response:
    out = io.StringIO()
    csv_safe.write(out, header, rows)
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
