"""The segment and campaign forms as outreach receives them, and back: lists split, attributes by line, the
purpose kept; a typed rate that is no number sent as one outreach refuses; the buttons each state offers."""

from __future__ import annotations

import pytest
from multidict import MultiDict

from services.console.clients import as_json
from services.console.routes.campaigns import create_request, moves_for
from services.console.routes.segments import definition_from, given_of
from services.outreach.segments import InvalidSegment
from services.outreach.segments_grpc import definition_message, definition_of


def test_the_segment_form_becomes_a_definition_outreach_reads_and_shows_back_the_same():
    form = MultiDict(
        consent="marketing",
        regions="GB-ENG, GB-SCT\nIE",
        languages="en",
        bought_skus="OAT-500;OAT-1000",
        contacted_issue_codes="complaint.quality",
        attributes="tier = gold\n\nchannel=web",
    )
    definition = definition_of(definition_from(form))
    assert definition.regions == ("GB-ENG", "GB-SCT", "IE")
    assert definition.bought_skus == ("OAT-500", "OAT-1000")
    assert dict(definition.attributes) == {"tier": "gold", "channel": "web"}
    shown = given_of(as_json(definition_message(definition)))
    assert shown["regions"] == "GB-ENG, GB-SCT, IE"
    assert shown["attributes"] == "channel=web\ntier=gold"  # a map has no order: shown by name
    assert definition_of(definition_from(MultiDict(shown))) == definition


def test_an_empty_form_is_everyone_who_agreed_to_marketing_and_a_bad_purpose_is_refused_by_name():
    assert definition_of(definition_from(MultiDict())).to_json() == {"consent": "marketing"}
    with pytest.raises(InvalidSegment, match="consent: one of"):
        definition_of(definition_from(MultiDict(consent="spam")))
    with pytest.raises(InvalidSegment, match="attributes"):
        definition_of(definition_from(MultiDict(attributes="=gold")))


@pytest.mark.parametrize(("typed", "sent"), [("", 0), ("25", 25), ("ten", -1), ("9999999", -1), ("-3", -1)])
def test_the_rate_is_sent_as_typed_or_as_a_number_outreach_refuses(typed, sent):
    form = MultiDict(name="Spring", segment_id="s", subject="Hi", body="Text", rate_per_second=typed)
    assert create_request(form).rate_per_second == sent


def test_each_state_offers_its_own_buttons():
    assert moves_for("draft") == ["test"]
    assert moves_for("tested") == ["test", "start"]
    assert moves_for("running") == ["pause"]
    assert moves_for("paused") == ["resume"]
    assert moves_for("finished") == []
