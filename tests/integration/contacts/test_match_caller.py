"""MatchCaller: who is calling from this number, over a real channel against a real database."""

from __future__ import annotations

import datetime as dt

from crs.contacts.v1 import contacts_pb2 as pb

from tests.integration.contacts.test_call_filing import call_ended, publish
from tests.integration.contacts.test_consumers_api import create
from tests.support.wait import async_wait_for


async def match(contacts, number, region="US", **kw):
    return await contacts.stub.MatchCaller(pb.MatchCallerRequest(number=number, region=region, **kw))


async def test_every_spelling_of_a_number_finds_its_consumer(contacts):
    created = await create(contacts, "Nikola Tesla", "+1 (716) 555-0180")
    for spelling, region in [
        ("+17165550180", "US"),
        ("(716) 555-0180", "US"),
        ("716.555.0180", "US"),
        ("1-716-555-0180", "US"),
        ("+1 716 555 0180", "FR"),
        ("0017165550180", "DE"),
        ("tel:+1-716-555-0180", "US"),
        ("sip:+17165550180@pbx.example.com;user=phone", "US"),
    ]:
        result = await match(contacts, spelling, region)
        assert result.number_e164 == "+17165550180", spelling
        assert [(c.consumer_id, c.match) for c in result.candidates] == [(created.id, pb.MATCH_KIND_EXACT)], (
            spelling
        )


async def test_a_household_number_returns_everyone_most_recent_first(contacts, amqp_url):
    first = await create(contacts, "Marie Curie", "+33 6 98 76 54 32", "+33 6 11 22 33 01", region="FR")
    second = await create(contacts, "Pierre Curie", "06 98 76 54 32", "+33 6 11 22 33 02", region="FR")
    # Each called from their own number: Marie two days ago, Pierre an hour ago. By name, Marie would be first.
    now = dt.datetime.now(dt.UTC)
    for number, when in [
        ("+33611223301", now - dt.timedelta(days=2)),
        ("+33611223302", now - dt.timedelta(hours=1)),
    ]:
        await publish(amqp_url, call_ended(number=number, started_at=when))

    async def both_contacted():
        result = await match(contacts, "+33698765432")
        return result if all(c.HasField("last_contact_at") for c in result.candidates) else None

    result = await async_wait_for(both_contacted, timeout=20, what="both calls to be filed")
    assert [(c.consumer_id, c.match) for c in result.candidates] == [
        (second.id, pb.MATCH_KIND_EXACT),
        (first.id, pb.MATCH_KIND_EXACT),
    ]


async def test_same_national_number_under_another_country_code_is_a_national_match(contacts):
    created = await create(contacts, "Alan Turing", "+44 20 7946 0321")
    # The network delivered the number nationally, and it was read in the wrong region.
    result = await match(contacts, "(207) 946-0321", "US")
    assert result.number_e164 == "+12079460321"
    assert [(c.consumer_id, c.match) for c in result.candidates] == [(created.id, pb.MATCH_KIND_NATIONAL)]


async def test_last_digits_match_is_the_weakest_and_ranks_last(contacts):
    exact = await create(contacts, "Exact Owner", "+1 303 555 0777")
    suffix_only = await create(contacts, "Old Area Code", "+1 720 555 0777")
    result = await match(contacts, "+1 303 555 0777")
    assert [(c.consumer_id, c.match) for c in result.candidates] == [
        (exact.id, pb.MATCH_KIND_EXACT),
        (suffix_only.id, pb.MATCH_KIND_SUFFIX),
    ]


async def test_a_number_given_up_still_matches_but_below_the_current_holder(contacts):
    gone = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    old_phone = pb.PhoneNumber(number="+1 503 555 0155", type="home")
    old_phone.valid_from.FromDatetime(gone - dt.timedelta(days=900))
    old_phone.valid_to.FromDatetime(gone)
    former = await contacts.stub.CreateConsumer(
        pb.CreateConsumerRequest(consumer=pb.Consumer(name="Former Holder", phones=[old_phone]))
    )
    current = await create(contacts, "Current Holder", "+1 503 555 0155")
    result = await match(contacts, "503-555-0155")
    assert [(c.consumer_id, c.current) for c in result.candidates] == [(current.id, True), (former.id, False)]


async def test_withheld_and_unreadable_callers_match_no_one_and_say_why(contacts):
    await create(contacts, "Anon Ymous", "+1 614 555 0100")
    withheld = await match(contacts, "+16145550100", withheld=True)
    assert (withheld.withheld, list(withheld.candidates)) == (True, [])
    assert withheld.no_match_reason == pb.NO_MATCH_REASON_WITHHELD
    anonymous = await match(contacts, "sip:anonymous@anonymous.invalid")
    assert anonymous.no_match_reason == pb.NO_MATCH_REASON_WITHHELD
    garbage = await match(contacts, "not a number")
    assert garbage.no_match_reason == pb.NO_MATCH_REASON_UNPARSEABLE
    assert "not a phone number" in garbage.explanation
    unknown = await match(contacts, "+1 614 555 0999")
    assert unknown.no_match_reason == pb.NO_MATCH_REASON_NOT_FOUND
