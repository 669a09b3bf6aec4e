"""The open-a-recall form as OpenRecall receives it: one scripted answer a line, lots and regions as lists."""

from __future__ import annotations

from multidict import MultiDict

from services.console.routes.recalls import open_request


def test_the_form_becomes_the_request_with_lines_and_lists_split():
    form = MultiDict(
        sku=" OAT-500 ",
        lot_codes="L3, L4\nL5;L5",
        regions="IL OH",
        title="Oats",
        script="Please stop eating them.\n\n  We refund every pack.  \n",
        consumer_message="Do not eat lot L3.",
        alert_id="",
        reason="lab",
    )
    asked = open_request(form)
    assert asked.sku == "OAT-500"
    assert list(asked.lot_codes) == ["L3", "L4", "L5", "L5"]  # insights drops the repeat, as for the CLI
    assert list(asked.regions) == ["IL", "OH"]
    assert list(asked.script) == ["Please stop eating them.", "We refund every pack."]
    assert (asked.alert_id, asked.reason) == ("", "lab")
