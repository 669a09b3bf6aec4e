"""Helpers for the casework tests: the Casework gRPC API as one principal calls it."""

from __future__ import annotations

import grpc
import pytest
from crs.contacts.v1 import casework_pb2 as pb
from crs.contacts.v1 import casework_pb2_grpc

from services.contacts.casework.sweeper import Sweeper
from services.contacts.casework.wiring import CaseworkParts, CaseworkSettings
from services.contacts.consumers.lookup import DirectoryLookup
from services.contacts.consumers.store import ContactsStore
from services.runtime.principal import Principal
from tests.support.wait import async_wait_for


class Caller:
    """The Casework stub with `username`'s principal on every call (or none, when username is None)."""

    def __init__(self, channel: grpc.aio.Channel, username: str | None, role: str = "agent", **where):
        """`where`: the principal's extension, team and team_extensions, as the console sends them."""
        self._stub = casework_pb2_grpc.CaseworkStub(channel)
        self._metadata = Principal(username, role, **where).metadata() if username else ()

    def __getattr__(self, name: str):
        method = getattr(self._stub, name)

        async def call(request):
            return await method(request, metadata=self._metadata, timeout=10)

        return call

    async def capture(self, **fields) -> pb.Case:
        fields.setdefault("issue_code", "complaint.quality.foreign_object.plastic")
        fields.setdefault("verbatim", "I found a piece of hard plastic in the cereal.")
        call_id = fields.pop("call_id", None)
        case = pb.Case(**fields)
        if call_id:
            case.call_ids.append(call_id)
        return await self.CreateCase(pb.CreateCaseRequest(case=case))

    async def refused(self, method: str, request) -> grpc.aio.AioRpcError:
        """The error a call that must fail ends with."""
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await getattr(self, method)(request)
        return failed.value


def ids(found) -> list[str]:
    return [c.id for c in found.cases]


def parts_with_clock(pool, clock, **sweep_seconds: float) -> CaseworkParts:
    """Casework's parts on `clock`, their sweeps an hour apart unless `sweep_seconds` names them."""
    hourly = dict.fromkeys(
        ("sla_sweep_seconds", "follow_up_sweep_seconds", "regulatory_sweep_seconds"), 3600.0
    )
    settings = CaseworkSettings(**hourly | sweep_seconds)
    consumers = DirectoryLookup(ContactsStore(pool), region="US")
    return CaseworkParts(pool, consumers=consumers, settings=settings, clock=clock)


async def sweep_rounds(sweeper: Sweeper, more: int) -> None:
    """Wait until `sweeper` has run `more` rounds from now."""
    start = sweeper.rounds

    async def done():
        return sweeper.rounds >= start + more

    await async_wait_for(done, timeout=15, what=f"{more} rounds of the sweep for {sweeper.what}")
