"""The erasure workflow through outages: the broker cut away from contacts, and contacts itself restarted
while a service is down. Contacts runs in this process; the other services' Privacy APIs are stand-ins on
one gRPC server, each answering with what it "erased", or refusing while it is down."""

from __future__ import annotations

import asyncio
import dataclasses
from urllib.parse import urlsplit, urlunsplit

import grpc
import pytest
from crs.billing.v1 import privacy_pb2_grpc as billing
from crs.common.v1 import privacy_pb2 as pb
from crs.contacts.v1 import contacts_pb2, contacts_pb2_grpc, rights_pb2, rights_pb2_grpc
from crs.fulfillment.v1 import privacy_pb2_grpc as fulfillment
from crs.outreach.v1 import privacy_pb2_grpc as outreach
from crs.screenpop.v1 import privacy_pb2_grpc as screenpop
from crs.telephony.v1 import privacy_pb2_grpc as telephony

from services.contacts.__main__ import Bound, Settings, serve
from services.contacts.casework.wiring import CaseworkSettings
from services.contacts.privacy.wiring import PrivacySettings
from services.runtime import grpcio
from tests.support.proxy import CuttableProxy
from tests.support.wait import async_wait_for

SERVICES = {
    "billing": billing,
    "fulfillment": fulfillment,
    "outreach": outreach,
    "screenpop": screenpop,
    "telephony": telephony,
}


class StandIn:
    def __init__(self, name: str, down: set[str]):
        self.name, self.down = name, down

    async def ExportConsumer(self, request, context):
        return pb.ExportConsumerResponse(service=self.name, data_json="{}")

    async def EraseConsumer(self, request, context):
        if self.name in self.down:
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"{self.name} is down")
        return pb.EraseConsumerResponse(service=self.name, erased={f"{self.name}_rows": 1})


@pytest.fixture(scope="module")
async def stand_ins():
    down: set[str] = set()
    server = grpc.aio.server()
    for name, module in SERVICES.items():
        module.add_PrivacyServicer_to_server(StandIn(name, down), server)
    port = server.add_secure_port("127.0.0.1:0", grpcio.server_credentials())
    await server.start()
    yield f"127.0.0.1:{port}", down
    await server.stop(0)


@dataclasses.dataclass
class Contacts:
    settings: Settings
    stop: asyncio.Event = None
    task: asyncio.Task = None
    channel: grpc.aio.Channel = None

    async def start(self) -> Contacts:
        ready: asyncio.Future[Bound] = asyncio.get_running_loop().create_future()
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(serve(self.settings, self.stop, ready.set_result))
        bound = await asyncio.wait_for(asyncio.shield(ready), 30)
        self.settings = dataclasses.replace(self.settings, grpc_bind=f"127.0.0.1:{bound.grpc_port}")
        self.channel = grpcio.channel(self.settings.grpc_bind)
        return self

    async def halt(self) -> None:
        await self.channel.close()
        self.stop.set()
        await asyncio.wait_for(self.task, 30)

    @property
    def rights(self):
        return rights_pb2_grpc.ConsumerRightsStub(self.channel)

    async def consumer(self, name: str) -> str:
        created = await contacts_pb2_grpc.ContactsStub(self.channel).CreateConsumer(
            contacts_pb2.CreateConsumerRequest(consumer=contacts_pb2.Consumer(name=name))
        )
        return created.id

    async def erasure(self, erasure_id: str) -> rights_pb2.Erasure:
        return await self.rights.GetErasure(rights_pb2.GetErasureRequest(erasure_id=erasure_id))


@pytest.fixture
async def broker(amqp_url):
    parts = urlsplit(amqp_url)
    proxy = CuttableProxy(parts.hostname, parts.port or 5672)
    await proxy.start()
    via = urlunsplit(
        (parts.scheme, f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}", parts.path, "", "")
    )
    yield proxy, via
    await proxy.cut()


def settings(database_url: str, amqp_url: str, target: str) -> Settings:
    return Settings(
        database_url=database_url,
        amqp_url=amqp_url,
        home_region="US",
        grpc_bind="127.0.0.1:0",
        http_bind="127.0.0.1:0",
        casework=CaseworkSettings(sla_sweep_seconds=3600.0),
        privacy=PrivacySettings(targets=dict.fromkeys(SERVICES, target), retry_seconds=0.2, sweep_seconds=0),
    )


async def test_an_erasure_completes_while_the_broker_is_cut_away(database_url, broker, stand_ins):
    proxy, via = broker
    target, _ = stand_ins
    contacts = await Contacts(settings(database_url, via, target)).start()
    try:
        consumer_id = await contacts.consumer("Broker Outage")
        await proxy.cut()
        started = await contacts.rights.RequestErasure(
            rights_pb2.RequestErasureRequest(consumer_id=consumer_id, reason="asked during an outage")
        )

        async def done():
            return (await contacts.erasure(started.id)).state == "done"

        await async_wait_for(done, timeout=20, what="the erasure, with the broker away")
        receipt = await contacts.erasure(started.id)
        assert [(s.service, s.state) for s in receipt.steps] == [
            ("telephony", "done"),
            ("screenpop", "done"),
            ("billing", "done"),
            ("fulfillment", "done"),
            ("outreach", "done"),
            ("contacts", "done"),
        ]
        assert receipt.steps[-1].erased["profile"] == 1
        await proxy.restore()
    finally:
        await contacts.halt()


async def test_contacts_restarted_mid_erasure_finishes_it_with_the_first_answers_kept(
    database_url, amqp_url, stand_ins
):
    target, down = stand_ins
    contacts = await Contacts(settings(database_url, amqp_url, target)).start()
    down.add("billing")
    try:
        consumer_id = await contacts.consumer("Restart Midway")
        started = await contacts.rights.RequestErasure(
            rights_pb2.RequestErasureRequest(consumer_id=consumer_id, reason="asked before a restart")
        )

        async def stuck():
            steps = {s.service: s for s in (await contacts.erasure(started.id)).steps}
            return steps["billing"].attempts >= 1 and steps["screenpop"].state == "done"

        await async_wait_for(stuck, timeout=20, what="billing refusing, the steps before it done")
        before = await contacts.erasure(started.id)
    finally:
        await contacts.halt()

    down.discard("billing")
    contacts = await Contacts(dataclasses.replace(contacts.settings, grpc_bind="127.0.0.1:0")).start()
    try:

        async def done():
            return (await contacts.erasure(started.id)).state == "done"

        await async_wait_for(done, timeout=20, what="the erasure, after contacts came back")
        after = await contacts.erasure(started.id)
        assert after.steps[0] == before.steps[0] and after.steps[1] == before.steps[1]
        assert dict(after.steps[2].erased) == {"billing_rows": 1} and after.steps[2].last_error == ""
        assert after.steps[-1].state == "done" and after.requested_by == "service:console"
    finally:
        await contacts.halt()
