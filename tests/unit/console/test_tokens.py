"""Console session tokens: signed for one audience, until an expiry, by a key that may be rotated."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest

from services.console import tokens
from services.console.tokens import API, BROWSER, TokenKeys
from services.runtime import settings

SESSION = "0b7c54f2-3f0e-4c3f-9d8a-5b2f1f3c9e11"
NOW = 1_800_000_000.0
HOUR = timedelta(hours=1)
OLD = "2025a:" + "o" * 40
NEW = "2026a:" + "n" * 40


def issued(keys: str = OLD, audience: str = API, now: float = NOW) -> str:
    return TokenKeys.parse(keys).issue(session_id=SESSION, audience=audience, ttl=HOUR, now=now)


def test_a_token_names_its_session_for_its_audience_until_it_expires():
    keys = TokenKeys.parse(OLD)
    token = issued()
    assert keys.verify(token, audience=API, now=NOW + 10) == SESSION
    assert keys.verify(token, audience=API, now=NOW + 3599) == SESSION


def test_the_claims_and_the_kid_header():
    token = issued()
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "kid": "2025a", "typ": "JWT"}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims == {"aud": "crs-api", "iat": 1800000000, "exp": 1800003600, "jti": SESSION}


def test_an_expired_token_is_refused():
    assert TokenKeys.parse(OLD).verify(issued(), audience=API, now=NOW + 3600) is None
    assert TokenKeys.parse(OLD).verify(issued(), audience=API, now=NOW + 86400) is None


def test_each_door_refuses_the_other_doors_token():
    keys = TokenKeys.parse(OLD)
    assert keys.verify(issued(audience=BROWSER), audience=API, now=NOW) is None
    assert keys.verify(issued(audience=API), audience=BROWSER, now=NOW) is None
    assert keys.verify(issued(audience=BROWSER), audience=BROWSER, now=NOW) == SESSION


def test_a_forged_signature_is_refused():
    forged = issued(keys="2025a:" + "x" * 40)  # the right kid, the wrong secret
    assert TokenKeys.parse(OLD).verify(forged, audience=API, now=NOW) is None
    header, _, signature = issued().split(".")
    other = base64.urlsafe_b64encode(json.dumps({"aud": "crs-api", "iat": 1800000000, "exp": 1900000000,
                                                 "jti": SESSION}).encode()).rstrip(b"=").decode()  # fmt: skip
    assert TokenKeys.parse(OLD).verify(f"{header}.{other}.{signature}", audience=API, now=NOW) is None


def test_an_unsigned_token_and_rubbish_are_refused():
    unsigned = jwt.encode({"aud": "crs-api", "iat": 1, "exp": 1900000000, "jti": SESSION}, key=None,
                          algorithm="none", headers={"kid": "2025a"})  # fmt: skip
    keys = TokenKeys.parse(OLD)
    for bad in (unsigned, "", None, "not.a.token", "x" * 5000):
        assert keys.verify(bad, audience=API, now=NOW) is None


def test_a_token_without_a_session_id_is_refused():
    no_jti = jwt.encode({"aud": "crs-api", "iat": 1, "exp": 1900000000}, "o" * 40, algorithm="HS256",
                        headers={"kid": "2025a"})  # fmt: skip
    assert TokenKeys.parse(OLD).verify(no_jti, audience=API, now=NOW) is None


def test_rotation_keeps_tokens_of_the_second_key_and_signs_with_the_first():
    rotated = TokenKeys.parse(f"{NEW},{OLD}")
    assert rotated.verify(issued(keys=OLD), audience=API, now=NOW) == SESSION
    fresh = rotated.issue(session_id=SESSION, audience=API, ttl=HOUR, now=NOW)
    assert jwt.get_unverified_header(fresh)["kid"] == "2026a"
    assert TokenKeys.parse(NEW).verify(fresh, audience=API, now=NOW) == SESSION


def test_a_token_signed_by_a_retired_key_is_refused():
    assert TokenKeys.parse(NEW).verify(issued(keys=OLD), audience=API, now=NOW) is None


@pytest.mark.parametrize("text", ["", "nokey", "kid:", ":secret", "a:x,a:y"])
def test_malformed_keys_are_refused(text):
    with pytest.raises(tokens.BadKeys, match="CRS_CONSOLE_TOKEN_KEYS"):
        TokenKeys.parse(text)


def test_production_refuses_development_short_or_empty_keys_and_names_the_setting(monkeypatch):
    monkeypatch.setenv("CRS_ENV", "production")
    for value in (
        "",
        settings.SECRETS["CRS_CONSOLE_TOKEN_KEYS"],
        "k1:crs-dev-" + "x" * 40,
        f"{NEW},k2:short",
    ):
        monkeypatch.setenv("CRS_CONSOLE_TOKEN_KEYS", value)
        with pytest.raises(SystemExit, match="CRS_CONSOLE_TOKEN_KEYS"):
            tokens.keys_from_env()
    monkeypatch.setenv("CRS_CONSOLE_TOKEN_KEYS", f"{NEW},{OLD}")
    assert tokens.keys_from_env().signing_kid == "2026a"


def test_outside_production_the_development_key_signs(monkeypatch):
    monkeypatch.delenv("CRS_ENV", raising=False)
    monkeypatch.delenv("CRS_CONSOLE_TOKEN_KEYS", raising=False)
    assert tokens.keys_from_env() == tokens.development_keys()
