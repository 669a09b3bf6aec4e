"""Fulfillment's Privacy API: a consumer's requests and letters exported, then erased with the counts kept."""

from __future__ import annotations

import json
import uuid

from crs.common.v1 import privacy_pb2 as pb
from crs.fulfillment.v1 import privacy_pb2_grpc

from services.runtime.grpcio import blocking_channel


def test_the_letter_and_the_name_on_a_request_are_exported_then_erased_and_the_request_still_counts(
    stack, directory
):
    case = directory.add_case(
        phones=["+14155550188"],
        address=("1 Market St", "94105"),
        city="San Francisco",
        area="CA",
        name="Odile Vantard",
    )
    letter = stack.wait_state(stack.request(case, "letter", template="apology").id, "shipped")
    consumer_id = directory.cases[case].consumer_id
    keys = pb.ConsumerKeys(consumer_id=consumer_id)
    privacy = privacy_pb2_grpc.PrivacyStub(blocking_channel(stack.env["CRS_FULFILLMENT_GRPC"]))

    exported = privacy.ExportConsumer(pb.ExportConsumerRequest(consumer=keys), timeout=10)
    data = json.loads(exported.data_json)
    assert [(f["id"], f["consumer_name"]) for f in data["fulfillments"]] == [(letter.id, "Odile Vantard")]
    assert [a.name for a in exported.attachments] == [f"letters/{letter.id}.pdf"]
    assert exported.attachments[0].content.startswith(b"%PDF")

    erasure = pb.EraseConsumerRequest(consumer=keys, erasure_id=str(uuid.uuid4()))
    erased = privacy.EraseConsumer(erasure, timeout=10)
    assert (erased.erased["fulfillments_anonymised"], erased.erased["letters"]) == (1, 1)
    assert privacy.EraseConsumer(erasure, timeout=10).erased == erased.erased

    assert (
        json.loads(privacy.ExportConsumer(pb.ExportConsumerRequest(consumer=keys), timeout=10).data_json)[
            "fulfillments"
        ]
        == []
    )
    [(kind, state, name, address, anonymous)] = stack.sql(
        "SELECT kind, state, consumer_name, address::text, consumer_id::text FROM fulfillment.fulfillment WHERE id = %s",
        (letter.id,),
    )
    assert (kind, state, name, address) == ("letter", "shipped", "", "{}")
    assert anonymous != consumer_id
    assert stack.sql("SELECT 1 FROM fulfillment.letter WHERE fulfillment_id = %s", (letter.id,)) == []
