"""Coupon codes: unguessable, forgiving to read, and a mistyped or invented code is caught offline."""

from __future__ import annotations

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
    code = coupons.generate().replace("-", "")
    for position in range(len(code) - 1):
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


def test_a_known_code_has_the_check_character_luhn_mod_32_gives():
    # Worked by hand: body "000000000000001" -> the rightmost 1 is doubled to 2, so the sum is 2 and the
    # check value is 32 - 2 = 30, the alphabet's "Y".
    assert coupons.check_character("000000000000001") == "Y"
    assert coupons.normalise("0000-0000-0000-001Y") == "0000-0000-0000-001Y"
