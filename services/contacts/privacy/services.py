"""Every service's Privacy API as the workflow and the archive use it: gRPC to the others, in-process for
contacts' own data. Each call is made as contacts itself (its certificate), with no person's principal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crs.billing.v1 import privacy_pb2_grpc as billing_grpc
from crs.common.v1 import privacy_pb2 as pb
from crs.fulfillment.v1 import privacy_pb2_grpc as fulfillment_grpc
from crs.outreach.v1 import privacy_pb2_grpc as outreach_grpc
from crs.screenpop.v1 import privacy_pb2_grpc as screenpop_grpc
from crs.telephony.v1 import privacy_pb2_grpc as telephony_grpc
from psycopg_pool import AsyncConnectionPool

from services.contacts.privacy import own_data
from services.contacts.privacy.workflow import Keys
from services.runtime import grpcio, privacy

ERASE_DEADLINE = 60.0
EXPORT_DEADLINE = 60.0
_STUBS = {
    "billing": billing_grpc.PrivacyStub,
    "fulfillment": fulfillment_grpc.PrivacyStub,
    "outreach": outreach_grpc.PrivacyStub,
    "screenpop": screenpop_grpc.PrivacyStub,
    "telephony": telephony_grpc.PrivacyStub,
}


def keys_pb(keys: Keys) -> pb.ConsumerKeys:
    return privacy.keys_to_pb(
        consumer_id=keys.consumer_id,
        phone_numbers=keys.phone_numbers,
        recording_keys=keys.recording_keys,
        call_ids=keys.call_ids,
    )


@dataclass
class Answer:
    service: str
    data_json: str
    attachments: list[pb.Attachment]


class Services:
    """The six services' Privacy APIs: `erasers()` for the workflow, `export(keys)` for the archive."""

    def __init__(self, pool: AsyncConnectionPool, targets: Mapping[str, str]):
        self.pool = pool
        self.channels = {name: grpcio.channel(targets[name], large_messages=True) for name in _STUBS}
        self.stubs = {name: stub(self.channels[name]) for name, stub in _STUBS.items()}

    def erasers(self) -> dict[str, Any]:
        def remote(name):
            async def erase(keys: Keys, erasure_id: str) -> dict[str, int]:
                answer = await self.stubs[name].EraseConsumer(
                    pb.EraseConsumerRequest(consumer=keys_pb(keys), erasure_id=erasure_id),
                    timeout=ERASE_DEADLINE,
                )
                return dict(answer.erased)

            return erase

        async def contacts(keys: Keys, erasure_id: str) -> dict[str, int]:
            own = privacy.Keys.from_pb(keys_pb(keys))
            erased, _ = await privacy.erase_once(
                self.pool, erasure_id, lambda conn: own_data.erase(conn, own)
            )
            return erased

        return {**{name: remote(name) for name in _STUBS}, "contacts": contacts}

    async def delete_recordings(self, recording_keys: list[str], sweep_id: str) -> int:
        """Telephony's erase of recordings no consumer is named for (a retention sweep's)."""
        answer = await self.stubs["telephony"].EraseConsumer(
            pb.EraseConsumerRequest(
                consumer=pb.ConsumerKeys(recording_keys=recording_keys), erasure_id=sweep_id
            ),
            timeout=ERASE_DEADLINE,
        )
        return answer.erased.get("recordings", 0)

    async def export(self, keys: Keys) -> list[Answer]:
        data, attachments = await own_data.export(self.pool, privacy.Keys.from_pb(keys_pb(keys)))
        answers = [Answer("contacts", privacy.to_json(data), attachments)]
        for name, stub in self.stubs.items():
            reply = await stub.ExportConsumer(
                pb.ExportConsumerRequest(consumer=keys_pb(keys)), timeout=EXPORT_DEADLINE
            )
            answers.append(Answer(name, reply.data_json, list(reply.attachments)))
        return answers

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()
