"""The principal as the console sends it and a service reads it back from a call's metadata."""

from __future__ import annotations

from services.runtime.principal import Principal, from_metadata


def test_a_supervisors_desk_and_team_travel_with_the_principal():
    sam = Principal(
        "sam", "supervisor", extension="1009", team="North East", team_extensions=frozenset({"1001", "1002"})
    )
    assert sam.metadata() == (
        ("crs-principal-user", "sam"),
        ("crs-principal-role", "supervisor"),
        ("crs-principal-extension", "1009"),
        ("crs-principal-team", "North East"),
        ("crs-principal-team-extensions", "1001,1002"),
    )
    assert from_metadata(sam.metadata()) == sam
    assert from_metadata(Principal("ada", "agent").metadata()) == Principal("ada", "agent")


def test_a_malformed_extension_or_team_list_is_no_principal_at_all():
    base = (("crs-principal-user", "ada"), ("crs-principal-role", "agent"))
    assert from_metadata((*base, ("crs-principal-extension", "10 01"))) is None
    assert from_metadata((*base, ("crs-principal-team-extensions", "1001,../x"))) is None
    assert from_metadata((*base, ("crs-principal-team", " leading-space"))) is None
