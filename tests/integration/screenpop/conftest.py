"""Screenpop composing pops, seen through the console's sockets: both processes, fake gRPC sources."""

from __future__ import annotations

import pytest

from tests.integration.console.stack import start_stack


@pytest.fixture(scope="module")
async def screenpop(service_env, database_url, amqp_url, tmp_path_factory):
    stack = start_stack(service_env, database_url, amqp_url, tmp_path_factory.mktemp("screenpop"))
    yield await anext(stack)
    await stack.aclose()
