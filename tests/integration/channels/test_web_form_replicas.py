"""Two real channels processes on one database enforce one rate limit for the web form, and each believes
X-Forwarded-For only from the proxy it is told to trust (loopback 127.0.0.1 here, never 127.0.0.2)."""

from __future__ import annotations

import itertools

import aiohttp
import pytest

from tests.support.processes import ServiceProcess, free_port, stop_all

BURST = 4
# A form that spends a token and is then refused (400) by its topic: the limit is what is observed, and
# nothing reaches casework, which these processes are not given.
SPENDS_A_TOKEN = {"topic": "nope", "name": "Jane", "email": "jane@example.com", "message": "hello there"}


@pytest.fixture(scope="module")
def replicas(service_env, tmp_path_factory):
    started, urls = [], []
    try:
        for replica in ("a", "b"):
            web_form = free_port()
            env = {
                **service_env,
                "CRS_CONTACTS_GRPC": f"127.0.0.1:{free_port()}",
                "CRS_KNOWLEDGE_GRPC": f"127.0.0.1:{free_port()}",
                "CRS_CHANNELS_GRPC": f"127.0.0.1:{free_port()}",
                "CRS_CHANNELS_SMTP_BIND": f"127.0.0.1:{free_port()}",
                "CRS_CHANNELS_SINK_BIND": f"127.0.0.1:{free_port()}",
                "CRS_CHANNELS_SINK_DIR": str(tmp_path_factory.mktemp(f"sink-{replica}")),
                "CRS_CHANNELS_CHAT_BIND": f"127.0.0.1:{free_port()}",
                "CRS_CHANNELS_CHAT_DEMO_BIND": f"127.0.0.1:{free_port()}",
                "CRS_CHANNELS_WEB_FORM_BIND": f"127.0.0.1:{web_form}",
                "CRS_CHANNELS_WEB_FORM_BURST": str(BURST),
                "CRS_CHANNELS_WEB_FORM_PER_MINUTE": "1",
                "CRS_CHANNELS_TRUSTED_PROXIES": "127.0.0.1/32, 10.0.0.0/8",
            }
            started.append(ServiceProcess("services.channels", env).start(wait_port=web_form))
            urls.append(f"http://127.0.0.1:{web_form}")
        yield urls
    finally:
        stop_all(started)


async def statuses(urls, *, forwarded_for, local_address="127.0.0.1", count=BURST + 1) -> list[int]:
    """`count` forms, taking turns between the replicas, each from `local_address`."""
    seen = []
    connector = aiohttp.TCPConnector(local_addr=(local_address, 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        for url, forwarded in zip(itertools.cycle(urls), forwarded_for(count), strict=False):
            headers = {"X-Forwarded-For": forwarded} if forwarded else {}
            async with session.post(url + "/intake", json=SPENDS_A_TOKEN, headers=headers) as response:
                seen.append(response.status)
    return seen


async def test_two_replicas_share_one_limit(replicas):
    assert await statuses(replicas, forwarded_for=lambda n: ["198.51.100.20"] * n) == [400] * BURST + [429]
    # Another client behind the same proxy has a bucket of its own.
    assert await statuses(replicas, forwarded_for=lambda n: ["198.51.100.21"], count=1) == [400]


async def test_a_spoofed_header_from_a_peer_not_trusted_is_ignored(replicas):
    # 127.0.0.2 is not a trusted proxy: a new X-Forwarded-For on each form does not make it a new client.
    spoofed = lambda n: [f"203.0.113.{i}" for i in range(n)]  # noqa: E731
    seen = await statuses(replicas, forwarded_for=spoofed, local_address="127.0.0.2")
    assert seen == [400] * BURST + [429]


async def test_behind_a_trusted_proxy_the_client_is_the_rightmost_hop_not_one_the_client_wrote(replicas):
    # The client writes its own first hop, different each time; the trusted proxies appended the rest.
    forged = lambda n: [f"192.0.2.{i}, 198.51.100.30, 10.1.2.3" for i in range(n)]  # noqa: E731
    assert await statuses(replicas, forwarded_for=forged) == [400] * BURST + [429]
