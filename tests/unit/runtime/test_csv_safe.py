"""CSV cells that a spreadsheet would run as formulas are written as text; numbers stay numbers."""

from __future__ import annotations

import csv
import io
import math

from services.runtime import csv_safe


def written(rows: list[list]) -> list[list[str]]:
    out = io.StringIO()
    csv_safe.write(out, ["key", "value"], rows)
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_formula_starts_are_neutralised_and_plain_text_is_left_alone():
    rows = written([["=HYPERLINK(\"http://x\")", 1], ["+1+1", 2], ["-2+3", 3], ["@SUM(A1)", 4],
                    ["\tcmd", 5], ["ada", 6], ["a=b", 7]])  # fmt: skip
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(\"http://x\")", "'+1+1", "'-2+3", "'@SUM(A1)",
                                        "'\tcmd", "ada", "a=b"]  # fmt: skip


def test_numbers_stay_numbers_and_no_figure_is_an_empty_cell():
    assert written([["(all)", -20.0], ["ada", 37.5], ["bob", math.nan], ["ok", True]])[1:] == [
        ["(all)", "-20"],
        ["ada", "37.5"],
        ["bob", ""],
        ["ok", "True"],
    ]
