"""Pop composition with fake sources: routing, the suggested candidate, deadlines and partial pops."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from services.screenpop import compose
from services.screenpop.compose import Deadlines, Outcome, build_pop, compose_pop, suggested_candidate

RINGING = {
    "call_id": "call-1",
    "extension": "1001",
    "caller": {"number": "+16145550123", "display": "J DOE", "withheld": False},
    "invite_received_at": "2025-01-01T10:00:00Z",
}
ADA = {
    "consumer_id": "c-ada",
    "name": "Ada Lovelace",
    "match": "exact",
    "current": True,
    "language": "en",
    "recent_contacts": [{"id": "k1", "channel": "phone", "summary": "asked about allergens"}],
}
BOB = {"consumer_id": "c-bob", "name": "Bob Stone", "match": "suffix", "current": True}
CAROL = {"consumer_id": "c-carol", "name": "Carol Ng", "match": "exact", "current": False}
ACCOUNT = {
    "consumer_id": "c-ada",
    "has_account": True,
    "balance": {"currency": "USD", "amount_minor": "12345"},
    "credit_terms": {
        "limit": {"currency": "USD", "amount_minor": "50000"},
        "payment_terms": "Net 30",
        "net_days": 30,
        "status": "good_standing",
    },
}
HISTORY = {
    "orders": [
        {
            "id": "o-2",
            "placed_at": "2025-01-02T00:00:00Z",
            "channel": "web",
            "status": "delivered",
            "total": {"currency": "USD", "amount_minor": "899"},
            "lines": [{"product": {"sku": "SKU-1", "name": "Oat crunch 500 g"}, "quantity": 2}],
        }
    ],
    "top_products": [{"product": {"sku": "SKU-1", "name": "Oat crunch 500 g"}, "orders": 3, "units": 5}],
}


class FakeSources:
    """Answers from memory; a source named in `down` fails as UNAVAILABLE, one in `slow` never answers."""

    def __init__(self, candidates, *, down=(), slow=(), recalls=()):
        self.candidates = candidates
        self.recalls = list(recalls)
        self.down = set(down)
        self.slow = set(slow)
        self.asked: list[str] = []

    async def _answer(self, source, value):
        self.asked.append(source)
        if source in self.down:
            raise grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata())
        if source in self.slow:
            await asyncio.Event().wait()
        return value

    async def match_caller(self, *, number, region, withheld, recent_contacts, deadline):
        return await self._answer("contacts", {"number_e164": number, "candidates": self.candidates})

    async def account_summary(self, *, consumer_id, deadline):
        return await self._answer("billing", ACCOUNT)

    async def purchase_history(self, *, consumer_id, deadline):
        return await self._answer("fulfillment", HISTORY)

    async def find_recalls(self, *, skus, deadline):
        return await self._answer("insights", [r for r in self.recalls if r["sku"] in skus])


FAST = Deadlines(match=0.2, source=0.05)


async def test_one_match_pops_that_consumer_with_balance_terms_and_purchases():
    pop = await compose_pop(ringing=RINGING, sources=FakeSources([ADA]), deadlines=FAST, region="US")
    assert pop["route"] == "consumer"
    assert pop["consumer"]["name"] == "Ada Lovelace"
    assert pop["balance"] == {"currency": "USD", "amount_minor": 12345, "display": "USD 123.45"}
    assert pop["credit_terms"]["payment_terms"] == "Net 30"
    assert pop["credit_terms"]["limit"]["display"] == "USD 500.00"
    assert pop["purchases"][0]["lines"][0]["name"] == "Oat crunch 500 g"
    assert pop["recent_contacts"][0]["summary"] == "asked about allergens"
    assert pop["partial"] == []
    assert pop["matches"] == [
        {
            "consumer_id": "c-ada",
            "name": "Ada Lovelace",
            "match": "exact",
            "current": True,
            "last_contact_at": None,
        }
    ]


async def test_billing_down_gives_a_partial_pop_not_a_missing_one():
    pop = await compose_pop(
        ringing=RINGING, sources=FakeSources([ADA], down={"billing"}), deadlines=FAST, region="US"
    )
    assert pop["partial"] == ["billing"]
    assert pop["balance"] is None and pop["credit_terms"] is None
    assert pop["purchases"], "fulfillment answered, so its part is there"


async def test_a_slow_source_is_cut_off_at_its_deadline():
    loop = asyncio.get_running_loop()
    started = loop.time()
    pop = await compose_pop(
        ringing=RINGING, sources=FakeSources([ADA], slow={"fulfillment"}), deadlines=FAST, region="US"
    )
    assert loop.time() - started < FAST.source + 0.1
    assert pop["partial"] == ["fulfillment"]
    assert pop["balance"]["display"] == "USD 123.45"


async def test_contacts_down_still_pops_the_caller_marked_partial():
    pop = await compose_pop(
        ringing=RINGING, sources=FakeSources([ADA], down={"contacts"}), deadlines=FAST, region="US"
    )
    assert pop["partial"] == ["contacts"]
    assert pop["caller"]["number"] == "+16145550123"
    assert pop["route"] == "new_consumer"


async def test_no_match_offers_the_new_consumer_form_with_the_number():
    sources = FakeSources([])
    pop = await compose_pop(ringing=RINGING, sources=sources, deadlines=FAST, region="US")
    assert pop["route"] == "new_consumer"
    assert pop["caller"]["number"] == "+16145550123"
    assert sources.asked == ["contacts"], "nobody to fetch a balance for"


async def test_withheld_caller_is_never_matched():
    ringing = {**RINGING, "caller": {"number": "", "display": "", "withheld": True}}
    sources = FakeSources([ADA])
    pop = await compose_pop(ringing=ringing, sources=sources, deadlines=FAST, region="US")
    assert pop["route"] == "withheld"
    assert pop["caller"] == {"number": None, "display": "", "withheld": True}
    assert sources.asked == []


async def test_several_matches_of_equal_strength_make_a_picker_without_guessing():
    sources = FakeSources([ADA, CAROL])
    pop = await compose_pop(ringing=RINGING, sources=sources, deadlines=FAST, region="US")
    assert pop["route"] == "picker"
    assert [m["name"] for m in pop["matches"]] == ["Ada Lovelace", "Carol Ng"]
    assert pop["consumer"] is None and pop["balance"] is None
    assert sources.asked == ["contacts"]


async def test_a_picker_with_one_clearly_strongest_match_prefetches_it():
    pop = await compose_pop(ringing=RINGING, sources=FakeSources([BOB, ADA]), deadlines=FAST, region="US")
    assert pop["route"] == "picker"
    assert pop["consumer"]["consumer_id"] == "c-ada"
    assert pop["balance"] == {"currency": "USD", "amount_minor": 12345, "display": "USD 123.45"}
    assert pop["credit_terms"] == {
        "limit": {"currency": "USD", "amount_minor": 50000, "display": "USD 500.00"},
        "payment_terms": "Net 30",
        "net_days": 30,
        "status": "good_standing",
    }


def test_suggested_candidate():
    assert suggested_candidate([]) is None
    assert suggested_candidate([BOB])["consumer_id"] == "c-bob"
    assert suggested_candidate([BOB, ADA])["consumer_id"] == "c-ada"
    assert suggested_candidate([ADA, CAROL]) is None
    assert suggested_candidate([BOB, {**BOB, "consumer_id": "c-bob2"}]) is None


@pytest.mark.parametrize(
    ("money", "shown"),
    [
        ({"currency": "USD", "amount_minor": "-5"}, "USD -0.05"),
        ({"currency": "EUR", "amount_minor": 123456789}, "EUR 1,234,567.89"),
        ({"currency": "JPY", "amount_minor": "1500"}, "JPY 1,500"),
        (None, None),
    ],
)
def test_format_money(money, shown):
    formatted = compose.format_money(money)
    assert (formatted["display"] if formatted else None) == shown


def test_no_account_means_no_balance_but_terms_may_show():
    pop = build_pop(
        ringing=RINGING,
        match=Outcome(value={"candidates": [ADA]}),
        account=Outcome(
            value={
                "has_account": False,
                "balance": {"currency": "USD", "amount_minor": "0"},
                "credit_terms": {"payment_terms": "Due on receipt", "net_days": 0, "status": "on_hold"},
            }
        ),
        history=Outcome(failed="DEADLINE_EXCEEDED"),
    )
    assert pop["balance"] is None
    assert pop["credit_terms"] == {
        "limit": None,
        "payment_terms": "Due on receipt",
        "net_days": 0,
        "status": "on_hold",
    }
    assert pop["partial"] == ["fulfillment"]


async def test_the_pop_names_the_telephony_replica_holding_the_call():
    ringing = {**RINGING, "control_address": "10.0.4.7:50055"}
    pop = await compose_pop(ringing=ringing, sources=FakeSources([ADA]), deadlines=FAST, region="US")
    assert pop["telephony_control"] == "10.0.4.7:50055"
    older = await compose_pop(ringing=RINGING, sources=FakeSources([ADA]), deadlines=FAST, region="US")
    assert older["telephony_control"] == ""  # from a telephony that does not say: the console's default


RECALL = {"id": "r-1", "sku": "SKU-1", "lot_codes": ["L3"], "title": "Oat crunch lot L3", "script": ["Stop."]}


async def test_a_consumer_who_bought_a_recalled_product_pops_with_the_recall_script():
    sources = FakeSources([ADA], recalls=[RECALL, {**RECALL, "id": "r-2", "sku": "SKU-9"}])
    pop = await compose_pop(ringing=RINGING, sources=sources, deadlines=FAST, region="US")
    assert [(r["recall_id"], r["script"], r["lot_codes"]) for r in pop["recalls"]] == [
        ("r-1", ["Stop."], ["L3"])
    ]
    assert pop["partial"] == []


async def test_insights_slow_or_down_pops_without_recalls_and_says_so():
    for trouble in ({"down": ["insights"]}, {"slow": ["insights"]}):
        pop = await compose_pop(
            ringing=RINGING,
            sources=FakeSources([ADA], recalls=[RECALL], **trouble),
            deadlines=FAST,
            region="US",
        )
        assert pop["recalls"] == [] and pop["partial"] == ["insights"]
        assert pop["purchases"][0]["lines"][0]["sku"] == "SKU-1"
