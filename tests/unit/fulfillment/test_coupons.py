"""Coupon codes: unguessable, forgiving to read, and a mistyped or invented code is caught offline."""

from __future__ import annotations

import itertools

import pytest

from services.fulfillment import coupons
from services.fulfillment.coupons import MalformedCode


def test_a_new_code_reads_back_as_itself_in_any_case_spacing_or_confusable_letters():
    code = coupons.generate()
    assert len(code) == 19 and code.count("-") == 3
    assert coupons.normalise(code) == code
    assert coupons.normalise(code.lower().replace("-", " ")) == code
    assert coupons.normalise(code.replace("0", "O").replace("1", "I")) == code


def test_codes_do_not_repeat():
    assert len({coupons.generate() for _ in range(5000)}) == 5000


def test_every_single_wrong_character_is_caught():
    code = coupons.generate().replace("-", "")
    for position in range(len(code)):
        for replacement in coupons.ALPHABET:
            if replacement == code[position]:
                continue
            typo = code[:position] + replacement + code[position + 1 :]
            with pytest.raises(MalformedCode):
                coupons.normalise(typo)


def test_every_swap_of_two_different_neighbours_is_caught():
    # Every pair of different characters, swapped at every place in the body, and every body character
    # swapped with the check character: a random code alone would meet a blind spot (Luhn mod 32 cannot
    # see 0 and Z swapped) only now and then.
    body = coupons.generate().replace("-", "")[:-1]
    codes = []
    for position in range(coupons.RANDOM_LENGTH - 1):
        for pair in itertools.permutations(coupons.ALPHABET, 2):
            placed = body[:position] + "".join(pair) + body[position + 2 :]
            codes.append((placed + coupons.check_character(placed), position))
    for last in coupons.ALPHABET:
        placed = body[:-1] + last
        codes.append((placed + coupons.check_character(placed), coupons.RANDOM_LENGTH - 1))
    for code, position in codes:
        if code[position] == code[position + 1]:
            continue
        swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
        with pytest.raises(MalformedCode):
            coupons.normalise(swapped)


@pytest.mark.parametrize(
    "typed", ["", "hello", "AAAA-BBBB-CCCC-DDD", "UUUU-UUUU-UUUU-UUUU", "7KQ2-MX9D-HT4R-WB3J!"]
)
def test_text_that_cannot_be_a_code_is_refused(typed):
    with pytest.raises(MalformedCode):
        coupons.normalise(typed)


def test_known_codes_have_the_check_character_worked_by_hand():
    # Body "000000000000001": the interim is 0 until the last 1, then 1; the check is x.1 = 2, "2".
    assert coupons.check_character("000000000000001") == "2"
    # Body "0000000000000G0": G (16) gives 16; the last 0 gives x.16 = 32, past five bits, so reduced by
    # x^5 + x^2 + 1: 0b100000 ^ 0b100101 = 5; the check is x.5 = 10, "A".
    assert coupons.check_character("0000000000000G0") == "A"
    assert coupons.normalise("0000-0000-0000-001-2") == "0000-0000-0000-0012"
