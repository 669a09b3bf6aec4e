"""The public web form: good forms become cases; bad ones get a clear message and leave no row behind."""

from __future__ import annotations

import itertools

import aiohttp
import psycopg
import pytest
from crs.contacts.v1 import casework_pb2 as pb

from services.contacts.casework.entrypoints.web_form import RateLimiter

# Each test speaks from its own address, through the proxy the service is told to trust (the contacts
# fixture's settings), so their rate limits do not mix.
_addresses = (f"198.51.100.{i}" for i in itertools.count(1))

GOOD = {
    "topic": "complaint",
    "name": "Jane Roe",
    "email": "jane.roe@example.com",
    "product": "Crunchy Oat Clusters",
    "sku": "COC-500",
    "lot_code": "L2419",
    "best_by": "2025-03-01",
    "store": "FreshMart",
    "location": "Columbus",
    "message": "There was a piece of plastic in the box.\nPlease call me.",
}


def counts(database_url: str) -> tuple[int, int]:
    """Contacts and contact events in the database: a rejected form must add to neither."""
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM contacts.contact), (SELECT count(*) FROM contacts.contact_event)"
        ).fetchone()


@pytest.fixture
async def client(contacts):
    address = next(_addresses)
    async with aiohttp.ClientSession(headers={"X-Forwarded-For": address}) as session:
        yield session


async def test_a_json_form_becomes_an_anonymous_web_case(contacts, client, agent):
    async with client.post(contacts.http_url + "/intake", json=GOOD) as response:
        assert response.status == 201
        reference = (await response.json())["reference"]
    found = await agent.SearchCases(pb.SearchCasesRequest(reference=reference))
    (case,) = found.cases
    assert (case.channel, case.consumer_id, case.created_by) == ("web", "", "web-form")
    assert case.reporter.email == "jane.roe@example.com"
    assert case.verbatim == GOOD["message"]
    assert case.issue_code == "complaint" and case.product.best_by == "2025-03-01"


async def test_a_browser_form_post_gets_a_page_with_the_reference(contacts, client):
    async with client.post(contacts.http_url + "/intake", data={**GOOD, "topic": "compliment"}) as response:
        assert response.status == 201
        assert 'id="reference"' in await response.text()
    async with client.get(contacts.http_url + "/intake") as response:
        assert response.status == 200 and "<form" in await response.text()
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    async with client.get(contacts.http_url + "/static/form.css") as response:
        assert response.status == 200 and "max-age" in response.headers["Cache-Control"]


async def test_what_was_typed_is_shown_back_escaped(contacts, client):
    hostile = {**GOOD, "name": '<script>alert("x")</script>', "purchased_on": "2099-01-01"}
    async with client.post(contacts.http_url + "/intake", data=hostile) as response:
        page = await response.text()
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"topic": "rant"}, "topic: choose one of"),
        ({"message": "  "}, "message: tell us"),
        ({"email": "", "phone": ""}, "give an email address or a phone number"),
        ({"email": "not-an-address"}, "reporter.email"),
        ({"lot_code": "L" * 65}, "product.lot_code: at most 64"),
        ({"best_by": "31/02/2025"}, "product.best_by"),
        ({"message": "bad \x00 byte here"}, "NUL"),
        ({"language": "english please"}, "language"),
        ({"colour": "red"}, "colour: not a field"),
        ({"name": 42}, "name: must be text"),
    ],
)
async def test_bad_input_gets_a_clear_message_and_leaves_no_row(
    contacts, client, database_url, change, message
):
    before = counts(database_url)
    async with client.post(contacts.http_url + "/intake", json={**GOOD, **change}) as response:
        assert response.status == 400
        assert message in (await response.json())["error"]
    assert counts(database_url) == before


async def test_a_bad_browser_form_is_shown_again_with_the_message_and_what_was_typed(
    contacts, client, database_url
):
    before = counts(database_url)
    async with client.post(
        contacts.http_url + "/intake", data={**GOOD, "purchased_on": "2099-01-01"}
    ) as response:
        assert response.status == 400
        page = await response.text()
    assert "product.purchased_on: is in the future" in page and "Jane Roe" in page
    assert counts(database_url) == before


async def test_a_form_with_the_hidden_field_filled_is_answered_as_sent_and_kept_nowhere(
    contacts, client, database_url
):
    # Only a bot fills the field a person never sees: it is told the form went through, so it learns
    # nothing to work around, and nothing is stored.
    before = counts(database_url)
    async with client.post(
        contacts.http_url + "/intake", json={**GOOD, "website": "http://spam.example"}
    ) as response:
        assert response.status == 201
        assert await response.json() == {"reference": 0}
    async with client.post(contacts.http_url + "/intake", data={**GOOD, "website": "spam"}) as response:
        assert response.status == 201
        assert 'id="reference"' in await response.text()
    assert counts(database_url) == before


async def test_one_address_may_send_only_a_few_forms_a_minute(contacts, client):
    statuses = []
    for _ in range(6):
        async with client.post(contacts.http_url + "/intake", json={**GOOD, "topic": "nope"}) as response:
            statuses.append(response.status)
            retry_after = response.headers.get("Retry-After")
    assert statuses == [400] * 5 + [429]
    assert int(retry_after) >= 1


def test_the_bucket_refills_with_time():
    limiter = RateLimiter(per_minute=6, burst=2)
    assert limiter.take("a", now=0) == 0 and limiter.take("a", now=0) == 0
    assert limiter.take("a", now=1) == pytest.approx(9, abs=0.01)
    assert limiter.take("b", now=1) == 0  # another address has its own bucket
    assert limiter.take("a", now=11) == 0
