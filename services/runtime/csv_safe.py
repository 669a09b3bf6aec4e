"""CSV cells safe to open in a spreadsheet.

A text cell starting with =, +, -, @ (or a tab or carriage return) is a formula to Excel, LibreOffice and
Sheets, so a product code or a name typed as `=HYPERLINK(...)` would run when the file is opened: such a
cell is written with a leading apostrophe, which spreadsheets show as text. Numbers stay numbers (a
negative NPS is still -20; a whole one is written whole), and a NaN (no figure) is an empty cell.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from typing import TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(value) -> str | int | float:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)  # a count carried as a double reads as a count
    if isinstance(value, int | float):
        return value
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write(out: TextIO, header: list[str], rows: Iterable[list]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([neutral(h) for h in header])
    writer.writerows([neutral(v) for v in row] for row in rows)
