"""The Contacts gRPC API over a real channel against a real database."""

from __future__ import annotations

import grpc
import pytest
from crs.contacts.v1 import contacts_pb2 as pb
from google.protobuf.field_mask_pb2 import FieldMask


async def create(contacts, name, *numbers, region="US", **extra):
    consumer = pb.Consumer(name=name, phones=[pb.PhoneNumber(number=n) for n in numbers], **extra)
    return await contacts.stub.CreateConsumer(pb.CreateConsumerRequest(consumer=consumer, region=region))


async def test_a_created_consumer_reads_back_with_normalised_numbers_and_formatted_address(contacts):
    created = await create(
        contacts,
        "Ada Lovelace",
        "(614) 555-0199",
        "+44 7911 123457",
        region="US",
        emails=[pb.Email(address="ada@example.com")],
        addresses=[
            pb.PostalAddress(
                region_code="FR", address_lines=["12 rue de la Paix"], locality="Paris", postal_code="75002"
            )
        ],
        language="en-GB",
    )
    found = await contacts.stub.GetConsumer(pb.GetConsumerRequest(id=created.id))
    assert found.name == "Ada Lovelace"
    assert [p.number for p in found.phones] == ["+16145550199", "+447911123457"]
    assert found.emails[0].address == "ada@example.com"
    assert found.addresses[0].formatted == "12 rue de la Paix\n75002 Paris\nFRANCE"
    assert found.language == "en-GB"


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (pb.Consumer(name="   "), "name"),
        (pb.Consumer(name="x" * 201), "at most 200"),
        (pb.Consumer(name="Bad Number", phones=[pb.PhoneNumber(number="call me maybe")]), "phones[0]"),
        (pb.Consumer(name="Bad Mail", emails=[pb.Email(address="not-an-address")]), "emails[0]"),
        (pb.Consumer(name="Bad Language", language="english please"), "language"),
        (pb.Consumer(name="No Country", addresses=[pb.PostalAddress(locality="Paris")]), "region_code"),
    ],
)
async def test_bad_input_is_refused_with_a_reason(contacts, request_, message):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await contacts.stub.CreateConsumer(pb.CreateConsumerRequest(consumer=request_))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in caught.value.details()


async def test_strings_that_look_like_sql_are_stored_verbatim(contacts):
    name = "Robert'); DROP TABLE consumer;--"
    created = await create(contacts, name, "+1 614 555 0142")
    found = await contacts.stub.GetConsumer(pb.GetConsumerRequest(id=created.id))
    assert found.name == name


async def test_unknown_and_malformed_ids(contacts):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await contacts.stub.GetConsumer(pb.GetConsumerRequest(id="00000000-0000-0000-0000-000000000000"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await contacts.stub.GetConsumer(pb.GetConsumerRequest(id="1 OR 1=1"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_update_writes_only_the_masked_fields(contacts):
    created = await create(contacts, "Grace Hopper", "+1 212 555 0101")
    changes = pb.Consumer(
        id=created.id, name="Grace B. Hopper", phones=[pb.PhoneNumber(number="+1 212 555 0102")]
    )
    updated = await contacts.stub.UpdateConsumer(
        pb.UpdateConsumerRequest(consumer=changes, update_mask=FieldMask(paths=["name"]))
    )
    assert updated.name == "Grace B. Hopper"
    assert [p.number for p in updated.phones] == ["+12125550101"]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await contacts.stub.UpdateConsumer(
            pb.UpdateConsumerRequest(consumer=changes, update_mask=FieldMask(paths=["id"]))
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_listing_pages_through_consumers_by_name_prefix(contacts):
    for index in range(5):
        await create(contacts, f"Zebulon Page{index}", f"+1 614 555 02{index:02d}")
    seen, token = [], ""
    while True:
        page = await contacts.stub.ListConsumers(
            pb.ListConsumersRequest(page_size=2, page_token=token, name_prefix="zebulon")
        )
        seen += [c.name for c in page.consumers]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == [f"Zebulon Page{index}" for index in range(5)]
