"""The contacts service, started in this process on free ports against this run's database and vhost."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from crs.contacts.v1 import contacts_pb2_grpc

from services.contacts.__main__ import Bound, Settings, serve
from services.runtime import grpcio
from services.runtime.recordings import LocalDirectoryStore


@dataclasses.dataclass
class RunningContacts:
    bound: Bound
    stub: contacts_pb2_grpc.ContactsStub
    recordings: LocalDirectoryStore
    settings: Settings

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.bound.http_port}"


@pytest.fixture(scope="session")
async def contacts(database_url, amqp_url, tmp_path_factory):
    store = LocalDirectoryStore(tmp_path_factory.mktemp("recordings"))
    settings = Settings(
        database_url=database_url,
        amqp_url=amqp_url,
        home_region="US",
        grpc_bind="127.0.0.1:0",
        http_bind="127.0.0.1:0",
        public_url="",
        recording_link_ttl=600,
        recordings=store,
    )
    ready: asyncio.Future[Bound] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop, ready.set_result))
    bound = await asyncio.wait_for(asyncio.shield(ready), 30)
    settings = dataclasses.replace(settings, public_url=f"http://127.0.0.1:{bound.http_port}")
    channel = grpcio.channel(f"127.0.0.1:{bound.grpc_port}")
    yield RunningContacts(bound, contacts_pb2_grpc.ContactsStub(channel), store, settings)
    await channel.close()
    stop.set()
    await asyncio.wait_for(task, 30)
