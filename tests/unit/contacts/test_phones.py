import pytest

from services.contacts.consumers.phones import NumberError, parse

SPELLINGS = [
    # (as written, region it is read in, E.164 expected)
    ("+1 614 555 0123", "US", "+16145550123"),
    ("(614) 555-0123", "US", "+16145550123"),
    ("614.555.0123", "US", "+16145550123"),
    ("1-614-555-0123", "US", "+16145550123"),
    ("+1 (614) 555-0123", "GB", "+16145550123"),
    ("011 1 614 555 0123", "US", "+16145550123"),
    ("001 614 555 0123", "GB", "+16145550123"),
    ("0016145550123", "US", "+16145550123"),
    ("tel:+1-614-555-0123", "US", "+16145550123"),
    ("tel:555-0123;phone-context=+1614", "US", "+16145550123"),
    ("sip:+16145550123@pbx.example.com;user=phone", "FR", "+16145550123"),
    ("614-555-0123 ext. 22", "US", "+16145550123"),
    ("07911 123456", "GB", "+447911123456"),
    ("+44 (0)7911 123456", "US", "+447911123456"),
    ("0044 7911 123456", "FR", "+447911123456"),
    ("0044 7911 123456", "US", "+447911123456"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("06.12.34.56.78", "FR", "+33612345678"),
    ("+33 6 12 34 56 78", "DE", "+33612345678"),
    ("00 33 6 12 34 56 78", "DE", "+33612345678"),
    ("030 1234567", "DE", "+49301234567"),
    ("030/1234567", "DE", "+49301234567"),
    ("+49 (0)30 1234567", "US", "+49301234567"),
    ("0151-23456789", "DE", "+4915123456789"),
]


@pytest.mark.parametrize(("written", "region", "e164"), SPELLINGS)
def test_spellings_normalise_to_e164(written, region, e164):
    assert parse(written, region).e164 == e164


def test_extension_is_kept_apart_from_the_number():
    number = parse("614-555-0123 ext. 22", "US")
    assert (number.e164, number.extension) == ("+16145550123", "22")


def test_national_and_international_spellings_share_their_keys():
    national, international = parse("06 12 34 56 78", "FR"), parse("+33612345678", "US")
    assert national.national_number == international.national_number == "612345678"
    assert national.suffix == "2345678"


@pytest.mark.parametrize(
    ("garbage", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("hello", "not a phone number"),
        ("12", "wrong number of digits"),
        ("+1 614 555 0123 4567 8901 2345", "too long"),
        ("x" * 65, "longer than 64"),
        ("anonymous", "withheld"),
        ("sip:anonymous@anonymous.invalid", "withheld"),
        ("sip:@pbx.example.com", "no number"),
        ("555-0123", "no country code"),
        ("'; DROP TABLE consumer; --", "not a phone number"),
    ],
)
def test_garbage_is_refused_with_a_reason(garbage, why):
    region = "" if why == "no country code" else "US"
    with pytest.raises(NumberError, match=why):
        parse(garbage, region)
