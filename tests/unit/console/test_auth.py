"""Passwords, tokens, and who may watch which extension."""

from __future__ import annotations

from services.console import auth
from services.console.auth import Principal


def agent(extension="1001", role="agent", team=frozenset()):
    return Principal(
        agent_id="a",
        username="u",
        display_name="U",
        role=role,
        extension=extension,
        team_id="t",
        team_extensions=team,
    )


def test_password_round_trip_and_wrong_password():
    hashed = auth.hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert auth.verify_password(hashed, "correct horse")
    assert not auth.verify_password(hashed, "correct hors")
    assert not auth.verify_password(None, "correct horse"), "an unknown user never logs in"
    assert not auth.verify_password("not a hash", "x")


def test_short_password_is_refused():
    try:
        auth.hash_password("short")
    except ValueError as exc:
        assert "8 characters" in str(exc)
    else:
        raise AssertionError("a 5-character password was accepted")


def test_csrf_tokens_are_unique_and_long():
    first, second = auth.new_token(), auth.new_token()
    assert first != second and len(first) >= 40


def test_an_agent_watches_only_their_own_extension():
    ada = agent("1001")
    assert ada.may_watch("1001")
    assert not ada.may_watch("1002")
    assert ada.watchable() == ["1001"]


def test_an_agent_with_team_extensions_listed_still_sees_only_their_own():
    assert not agent("1001", team=frozenset({"1002"})).may_watch("1002")


def test_a_supervisor_watches_their_team():
    sam = agent(None, role="supervisor", team=frozenset({"1002", "1001"}))
    assert sam.may_watch("1001") and sam.may_watch("1002")
    assert not sam.may_watch("2001")
    assert sam.watchable() == ["1001", "1002"]


def test_bearer_header():
    assert auth.bearer_token("Bearer abc") == "abc"
    assert auth.bearer_token("bearer  abc ") == "abc"
    assert auth.bearer_token("Basic abc") is None
    assert auth.bearer_token("Bearer ") is None
    assert auth.bearer_token(None) is None


def test_csrf_and_origin():
    assert auth.csrf_ok("tok", "tok")
    assert not auth.csrf_ok("tok", "tok2")
    assert not auth.csrf_ok("tok", None)
    assert auth.same_origin("http://127.0.0.1:8080", "127.0.0.1:8080", "http")
    assert not auth.same_origin("http://evil.example", "127.0.0.1:8080", "http")
    assert auth.same_origin(None, "127.0.0.1:8080", "http")


def test_extensions_that_would_be_routing_wildcards_are_refused():
    assert auth.valid_extension("1001")
    for bad in ("*", "#", "10.01", "", None, "1" * 33, "10 01"):
        assert not auth.valid_extension(bad)
