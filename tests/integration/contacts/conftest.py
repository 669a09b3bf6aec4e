"""The contacts service, started in this process on free ports against this run's database and vhost."""

from __future__ import annotations

import asyncio
import dataclasses

import grpc
import pytest
from crs.contacts.v1 import contacts_pb2_grpc

from services.contacts.__main__ import Bound, Settings, serve
from services.contacts.casework.wiring import CaseworkSettings
from services.contacts.privacy.wiring import REMOTE_SERVICES, PrivacySettings
from services.runtime import grpcio
from tests.integration.contacts.case_support import Caller


@dataclasses.dataclass
class RunningContacts:
    bound: Bound
    channel: grpc.aio.Channel
    stub: contacts_pb2_grpc.ContactsStub
    settings: Settings

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.bound.http_port}"


@pytest.fixture(scope="session")
async def contacts(database_url, amqp_url):
    settings = Settings(
        database_url=database_url,
        amqp_url=amqp_url,
        home_region="US",
        grpc_bind="127.0.0.1:0",
        http_bind="127.0.0.1:0",
        casework=CaseworkSettings(sla_sweep_seconds=30.0),
        # No other service runs beside this contacts: its erasure runner must not carry another test's
        # erasures (test_erasure_outages.py runs its own), so it rounds once an hour against nothing.
        privacy=PrivacySettings(
            targets=dict.fromkeys(REMOTE_SERVICES, "127.0.0.1:9"),
            retry_seconds=3600.0,
            sweep_seconds=0,
        ),
    )
    ready: asyncio.Future[Bound] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop, ready.set_result))
    bound = await asyncio.wait_for(asyncio.shield(ready), 30)
    channel = grpcio.channel(f"127.0.0.1:{bound.grpc_port}")
    yield RunningContacts(bound, channel, contacts_pb2_grpc.ContactsStub(channel), settings)
    await channel.close()
    stop.set()
    await asyncio.wait_for(task, 30)


@pytest.fixture
def agent(contacts) -> Caller:
    """Alice at extension 1001, where the tests' calls are taken."""
    return Caller(contacts.channel, "alice", extension="1001", team="north")


@pytest.fixture
def other_agent(contacts) -> Caller:
    return Caller(contacts.channel, "bob", extension="1002", team="north")


@pytest.fixture
def supervisor(contacts) -> Caller:
    """Sam, supervising alice and bob."""
    return Caller(
        contacts.channel, "sam", "supervisor", team="north", team_extensions=frozenset({"1001", "1002"})
    )


@pytest.fixture
def analyst(contacts) -> Caller:
    """Quality assurance: searches across the centre, sees no personal data."""
    return Caller(contacts.channel, "quinn", "analyst")


@pytest.fixture
def admin(contacts) -> Caller:
    """Code tables are an admin's (services/runtime/permissions.py)."""
    return Caller(contacts.channel, "ada-admin", "admin")
