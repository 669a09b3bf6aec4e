import pytest

from services.outreach.segments import Definition, InvalidSegment, Profile, matches


def profile(**kw):
    base = dict(consumer_id="c1", region="GB-ENG", language="en", consented=frozenset({"marketing"}))
    return Profile(**{**base, **kw})


def test_a_definition_round_trips_through_its_json_form():
    raw = {
        "consent": "marketing",
        "regions": ["GB-ENG"],
        "bought_skus": ["OAT-500"],
        "attributes": {"tier": "gold"},
    }
    assert Definition.parse(raw).to_json() == raw


@pytest.mark.parametrize(
    "raw, says",
    [
        ({"colour": ["red"]}, "unknown conditions: colour"),
        ({"regions": "GB-ENG"}, "regions: a list"),
        ({"languages": [""]}, "non-empty"),
        ({"consent": "gossip"}, "consent: one of"),
        ({"attributes": {"tier": 3}}, "attributes"),
    ],
)
def test_a_bad_definition_says_what_is_wrong(raw, says):
    with pytest.raises(InvalidSegment, match=says):
        Definition.parse(raw)


def test_every_condition_must_hold():
    d = Definition.parse({"regions": ["GB-ENG"], "languages": ["en"], "bought_skus": ["OAT-500"]})
    assert matches(d, profile(bought_skus=frozenset({"OAT-500", "TEA-1"})))
    assert not matches(d, profile(bought_skus=frozenset({"TEA-1"})))
    assert not matches(d, profile(bought_skus=frozenset({"OAT-500"}), region="FR-IDF"))
    assert not matches(d, profile(bought_skus=frozenset({"OAT-500"}), language="fr"))


def test_issue_codes_match_the_code_and_everything_under_it():
    d = Definition.parse({"contacted_issue_codes": ["complaint.quality"]})
    assert matches(d, profile(contacted_issue_codes=frozenset({"complaint.quality.foreign_object.plastic"})))
    assert not matches(d, profile(contacted_issue_codes=frozenset({"complaint.qualityx"})))


def test_a_consumer_without_consent_for_the_purpose_is_not_in_the_segment():
    d = Definition.parse({"consent": "marketing"})
    assert not matches(d, profile(consented=frozenset({"service", "recall"})))
    assert matches(Definition.parse({"consent": "recall"}), profile(consented=frozenset({"recall"})))
