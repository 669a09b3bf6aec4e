"""The client address behind trusted proxies, and the token bucket's arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.channels.rate_limit import (
    BadProxySetting,
    Bucket,
    Budget,
    TrustedProxies,
    client_address,
    spend,
)

PROXIES = TrustedProxies.parse("10.0.0.0/8, 192.0.2.7, fd00::/8")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_trusted_proxies_are_networks():
    assert PROXIES.trusts("10.20.30.40") and PROXIES.trusts("192.0.2.7") and PROXIES.trusts("fd00::1")
    assert not PROXIES.trusts("192.0.2.8") and not PROXIES.trusts("11.0.0.1")
    assert PROXIES.trusts("::ffff:10.1.2.3")  # an IPv4 peer on an IPv6 socket


@pytest.mark.parametrize("setting", ["10.0.0.0/33", "proxy.example", "10.0.0.1; 10.0.0.2"])
def test_a_proxy_that_is_not_an_address_or_cidr_is_refused(setting):
    with pytest.raises(BadProxySetting, match="not an address or a CIDR"):
        TrustedProxies.parse(setting)


def test_the_header_of_an_untrusted_peer_is_ignored():
    assert client_address("203.0.113.5", ["198.51.100.1"], PROXIES) == "203.0.113.5"


def test_behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client():
    # The client wrote "1.1.1.1" itself; the first proxy appended the address it saw, then another proxy.
    forwarded = ["1.1.1.1, 198.51.100.9, 10.0.0.3"]
    assert client_address("10.0.0.2", forwarded, PROXIES) == "198.51.100.9"
    assert client_address("10.0.0.2", ["1.1.1.1", "198.51.100.9"], PROXIES) == "198.51.100.9"


def test_a_trusted_proxy_with_no_header_or_a_garbled_hop_stops_at_the_last_good_address():
    assert client_address("10.0.0.2", [], PROXIES) == "10.0.0.2"
    assert client_address("10.0.0.2", ["198.51.100.9, 10.0.0.3, garbage"], PROXIES) == "10.0.0.2"
    assert client_address("10.0.0.2", ["[2001:db8::1]:443"], PROXIES) == "2001:db8::1"
    assert client_address(None, [], PROXIES) == "unknown"


def test_the_bucket_spends_its_burst_then_refills_with_time():
    budget = Budget(per_minute=6, burst=2)
    bucket, wait = spend(budget, None, T0)
    assert wait == 0
    bucket, wait = spend(budget, bucket, T0)
    assert wait == 0
    refused, wait = spend(budget, bucket, T0 + timedelta(seconds=1))
    assert wait == pytest.approx(9, abs=0.01)
    _, wait = spend(budget, refused, T0 + timedelta(seconds=11))
    assert wait == 0


def test_a_clock_that_goes_back_adds_nothing():
    budget = Budget(per_minute=60, burst=1)
    _, wait = spend(budget, Bucket(0.0, T0), T0 - timedelta(seconds=30))
    assert wait == pytest.approx(1)
