import json
import pathlib

import pytest

from services.outreach.recalls import Contact, InvalidRecall, Purchase, Recall, affected

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "recall_opened.json"


def recall():
    return Recall.from_event(json.loads(FIXTURE.read_text()))


def test_the_event_payload_parses_with_every_field():
    r = recall()
    assert (r.recall_id, r.sku, r.lot_codes, r.regions) == (
        "RC-2026-0007",
        "OAT-500",
        ("L2611A", "L2611B"),
        ("GB-ENG", "GB-WLS"),
    )
    assert r.opened_at.isoformat() == "2026-11-12T09:30:00+00:00"
    assert r.campaign_key() == "recall:RC-2026-0007"


@pytest.mark.parametrize("drop", ["recall_id", "sku", "opened_at", "consumer_message"])
def test_a_payload_missing_what_a_notice_needs_is_refused(drop):
    data = json.loads(FIXTURE.read_text())
    data[drop] = ""
    with pytest.raises(InvalidRecall):
        Recall.from_event(data)


def test_buyers_in_the_regions_and_those_who_contacted_us_are_affected():
    purchases = [
        Purchase("bought-lot", "OAT-500", "L2611A", "GB-ENG"),
        Purchase("bought-unknown-lot", "OAT-500", "", "GB-WLS"),
        Purchase("other-lot", "OAT-500", "L2501Z", "GB-ENG"),
        Purchase("other-region", "OAT-500", "L2611A", "FR-IDF"),
        Purchase("other-product", "TEA-1", "L2611A", "GB-ENG"),
    ]
    contacts = [
        Contact("asked", "OAT-500", ""),
        Contact("asked-lot", "", "L2611B"),
        Contact("", "OAT-500", ""),
    ]
    assert affected(recall(), purchases, contacts) == {
        "bought-lot",
        "bought-unknown-lot",
        "asked",
        "asked-lot",
    }
