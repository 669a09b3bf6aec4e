"""What names the consumer in free text is found and replaced, and what counts stays."""

from __future__ import annotations

from services.contacts.privacy.redact import MARK, Terms, mentions, redact, scrub_changes

TERMS = Terms.of(names=["Ada Quist"], emails=["ada.quist@example.org"], phones=["+14155550101"])


def test_the_whole_name_and_each_part_of_it_are_replaced():
    text = "Ada Quist called. Mrs Quist says ada found glass."
    assert redact(text, TERMS) == f"{MARK} called. Mrs {MARK} says {MARK} found glass."


def test_numbers_and_emails_in_any_spelling_are_replaced():
    text = "call (415) 555-0101 or +1 415 555 0101, mail ADA.QUIST@example.org or a.q@elsewhere.net"
    assert redact(text, TERMS) == f"call {MARK} or {MARK}, mail {MARK} or {MARK}"


def test_product_lot_and_dates_stay():
    text = "Lot L2419, best by 2026-03-01, 3 pieces of glass in the jar"
    assert redact(text, TERMS) == text


def test_a_name_part_inside_another_word_is_left_alone():
    assert redact("Quistorp Street store; adamant", TERMS) == "Quistorp Street store; adamant"


def test_timeline_values_lose_personal_fields_and_mentions():
    changes = {
        "reporter_name": {"before": "", "after": "Ada Quist"},
        "verbatim": {"before": "", "after": "Ada Quist found glass"},
        "lot_code": {"before": "", "after": "L2419"},
    }
    assert scrub_changes(changes, TERMS) == {
        "reporter_name": MARK,
        "verbatim": {"before": "", "after": f"{MARK} found glass"},
        "lot_code": {"before": "", "after": "L2419"},
    }


def test_mentions_finds_the_record_spelling_only():
    assert mentions('{"name": "Ada Quist"}', TERMS)
    assert mentions("from 4155550101", TERMS)
    assert not mentions("a.q@elsewhere.net, lot L2419", TERMS)
