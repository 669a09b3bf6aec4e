import pytest

from services.contacts.consumers.addresses import format_address
from services.contacts.consumers.model import PostalAddress


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (
            PostalAddress("US", ["1600 Amphitheatre Pkwy"], "Mountain View", "CA", "94043"),
            "1600 Amphitheatre Pkwy\nMountain View, CA 94043",
        ),
        (
            PostalAddress("GB", ["10 Downing Street"], "London", "", "SW1A 2AA"),
            "10 Downing Street\nLondon\nSW1A 2AA\nUNITED KINGDOM",
        ),
        (
            PostalAddress("DE", ["Unter den Linden 77"], "Berlin", "", "10117"),
            "Unter den Linden 77\n10117 Berlin\nGERMANY",
        ),
        (
            PostalAddress("FR", ["55 rue du Faubourg Saint-Honoré"], "Paris", "", "75008", "CEDEX 08"),
            "55 rue du Faubourg Saint-Honoré\n75008 Paris CEDEX 08\nFRANCE",
        ),
    ],
)
def test_each_country_lays_out_its_own_address(address, expected):
    assert format_address(address, home_region="US") == expected
