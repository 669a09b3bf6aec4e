"""The console and screenpop as processes, with fake gRPC servers behind them."""

from __future__ import annotations

import pytest

from tests.integration.console.stack import start_stack


@pytest.fixture(scope="module")
async def console(service_env, database_url, amqp_url, tmp_path_factory):
    stack = start_stack(service_env, database_url, amqp_url, tmp_path_factory.mktemp("console"))
    yield await anext(stack)
    await stack.aclose()
