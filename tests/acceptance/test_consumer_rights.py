"""Acceptance: a consumer's rights across the whole system. A consumer with a unique name, number and email
calls (recorded), has two cases, an order and a ledger entry; the export holds each; the erasure leaves
none of them in the database, the recording store, the queues, telephony's spool or the logs, and the
early warning for the product and lot counts what it counted before."""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import string
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from crs.billing.v1 import billing_pb2, billing_pb2_grpc
from crs.common.v1 import money_pb2
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc, rights_pb2, rights_pb2_grpc
from crs.telephony.v1 import events_pb2

from services.fulfillment.catalogue import Order
from services.fulfillment.store import record_order
from services.runtime import bus, grpcio, recordings
from services.runtime.db import connect
from services.runtime.events import Event
from services.runtime.principal import Principal
from tests.acceptance import rights_stack
from tests.support import infra
from tests.support.wait import wait_for

pytestmark = pytest.mark.sip

# The supervisor of the team whose extension took the call (1001), so casework lets the case link it.
SUPERVISOR = Principal(
    "sam", "supervisor", team="north", team_extensions=frozenset({"1001", "1002"})
).metadata()
SKU, LOT = "CRS-RIGHTS-1", "L2419"


def unique_person() -> dict[str, str]:
    surname = "Q" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(9))
    digits = f"{secrets.randbelow(100):02d}"
    return {
        "name": f"Ysolde {surname}",
        "surname": surname,
        "email": f"{surname.lower()}@example.org",
        "phone": f"+1614555{secrets.randbelow(10)}1{digits}",
    }


@pytest.fixture(scope="module")
def amqp_vhost():
    """A vhost of this module's own: its queues are the ones this system used, and no contacts consumer
    started elsewhere in the session shares them and takes its calls."""
    with infra.own_vhost("crs-rights") as url:
        yield url


@pytest.fixture(scope="module")
def system(tmp_path_factory, service_env, amqp_vhost):
    system = rights_stack.start(tmp_path_factory.mktemp("rights"), dict(service_env, CRS_AMQP_URL=amqp_vhost))
    yield system
    rights_stack.stop(system)


@pytest.fixture(scope="module")
def channel(system):
    with grpcio.blocking_channel(f"127.0.0.1:{system.contacts_port}", large_messages=True) as chan:
        yield chan


def add_consumer(system, person) -> str:
    added = system.crs(
        "consumer", "add", "--name", person["name"], "--phone", person["phone"], "--email", person["email"]
    )
    assert added.returncode == 0, added.stderr
    return added.stdout.strip()


def capture(channel, consumer_id: str, person, verbatim: str, **fields) -> casework_pb2.Case:
    case = casework_pb2.Case(
        consumer_id=consumer_id,
        reporter=casework_pb2.Reporter(name=person["name"], email=person["email"], phone=person["phone"]),
        product=casework_pb2.Product(
            sku=SKU, name="Crunchy Oat Clusters", lot_code=LOT, purchase_location="Columbus, OH"
        ),
        issue_code=fields.pop("issue_code", "complaint.quality.foreign_object.plastic"),
        verbatim=verbatim,
        notes=f"Spoke to {person['name']}; will send a mailer to {person['email']}.",
        **fields,
    )
    stub = casework_pb2_grpc.CaseworkStub(channel)
    return stub.CreateCase(casework_pb2.CreateCaseRequest(case=case), metadata=SUPERVISOR, timeout=10)


def lot_count(channel) -> int:
    warning = casework_pb2_grpc.CaseworkStub(channel).GetEarlyWarning(
        casework_pb2.GetEarlyWarningRequest(days=30, threshold=2, issue_code="complaint"),
        metadata=SUPERVISOR,
        timeout=10,
    )
    return sum(c.contacts for c in warning.clusters if (c.product_sku, c.lot_code) == (SKU, LOT))


def post_ledger_entry(system, consumer_id: str, reference: str) -> None:
    with grpcio.blocking_channel(system.env["CRS_BILLING_GRPC"]) as chan:
        billing_pb2_grpc.BillingStub(chan).PostLedgerEntry(
            billing_pb2.PostLedgerEntryRequest(
                entry=billing_pb2.LedgerEntry(
                    consumer_id=consumer_id,
                    kind=billing_pb2.ENTRY_KIND_INVOICE,
                    amount=money_pb2.Money(currency="USD", amount_minor=1999),
                    reference=reference,
                ),
                idempotency_key=str(uuid.uuid4()),
            ),
            metadata=SUPERVISOR,
            timeout=10,
        )


def record_an_order(database_url: str, consumer_id: str) -> str:
    order_id = str(uuid.uuid4())
    with connect(database_url, schema="fulfillment") as conn:
        record_order(
            conn,
            Order(
                id=order_id,
                consumer_id=consumer_id,
                placed_at=datetime.now(UTC),
                channel="web",
                status="delivered",
                currency="USD",
            ),
        )
        conn.commit()
    return order_id


def call_and_wait_for_the_recording(system, channel, consumer_id: str, number: str) -> str:
    called = system.crs("call", "--from", number, "--to", "1001", "--seconds", "2")
    assert called.returncode == 0, called.stderr
    call_id = called.stdout.split()[1]

    def recorded():
        try:
            call = casework_pb2_grpc.CaseworkStub(channel).GetCall(
                casework_pb2.GetCallRequest(call_id=call_id), metadata=SUPERVISOR, timeout=5
            )
        except grpc.RpcError:
            return None
        return call if call.recording_key and call.consumer_id == consumer_id else None

    wait_for(recorded, timeout=30, what="the call filed on the consumer with its recording")
    return call_id


def test_export_holds_everything_and_erasure_leaves_nothing_but_the_counts(
    system, channel, database_url, amqp_vhost, tmp_path
):
    amqp_url = amqp_vhost
    person = unique_person()
    consumer_id = add_consumer(system, person)
    call_id = call_and_wait_for_the_recording(system, channel, consumer_id, person["phone"])
    recorded_keys = [p for p in system.recordings.rglob("*") if p.is_file()]
    first = capture(
        channel, consumer_id, person, f"{person['name']} found plastic in the oats.", call_ids=[call_id]
    )
    second = capture(
        channel, consumer_id, person, f"Mrs {person['surname']} says the second box had plastic too."
    )
    reference = f"INV-{uuid.uuid4().hex[:8]}"
    post_ledger_entry(system, consumer_id, reference)
    order_id = record_an_order(database_url, consumer_id)
    counted = lot_count(channel)
    assert counted >= 2

    archive_path = tmp_path / "export.zip"
    exported = system.crs("consumer", "export", consumer_id, "--out", str(archive_path))
    assert exported.returncode == 0, exported.stderr
    archive = zipfile.ZipFile(io.BytesIO(archive_path.read_bytes()))
    everything = json.loads(archive.read("everything.json"))
    held = everything["services"]
    assert held["contacts"]["profile"]["name"] == person["name"]
    assert [p["e164"] for p in held["contacts"]["phone_numbers"]] == [person["phone"]]
    assert [e["address"] for e in held["contacts"]["emails"]] == [person["email"]]
    verbatims = {c["verbatim"] for c in held["contacts"]["contacts_and_cases"]}
    assert {first.verbatim, second.verbatim} <= verbatims
    assert call_id in {c["call_id"] for c in held["contacts"]["contacts_and_cases"]}
    assert held["contacts"]["timelines"], "the cases' timelines"
    assert [e["reference"] for e in held["billing"]["ledger_entries"]] == [reference]
    assert [o["id"] for o in held["fulfillment"]["orders"]] == [order_id]
    recordings_in_archive = [n for n in archive.namelist() if n.startswith("telephony/recordings/")]
    assert len(recordings_in_archive) == 1
    assert archive.read(recordings_in_archive[0]) == recorded_keys[0].read_bytes()
    assert archive.read("summary.txt").decode().startswith("What we hold about you")

    erased = system.crs("consumer", "erase", consumer_id, "--reason", "the consumer asked by phone")
    assert erased.returncode == 0, erased.stderr
    receipt = erased.stdout
    assert receipt.splitlines()[0].endswith(": done")
    assert "requested by service:cli" in receipt and "reason: the consumer asked by phone" in receipt
    for line in (
        "telephony    done",
        "screenpop    done",
        "billing      done",
        "fulfillment  done",
        "outreach     done",
        "contacts     done",
    ):
        assert line in receipt, receipt
    assert "recordings 1" in receipt and "ledger_entries_unlinked 1" in receipt and "profile 1" in receipt

    secrets_of_the_person = [
        person["name"],
        person["surname"],
        person["email"],
        person["phone"],
        person["phone"][2:],
    ]
    dump = rights_stack.pg_dump(database_url)
    assert [s for s in secrets_of_the_person if s in dump] == [], [
        line[:300] for line in dump.splitlines() if any(s in line for s in secrets_of_the_person)
    ]
    assert not any(p.exists() for p in recorded_keys), "the recording is still in the store"
    messages = b"".join(rights_stack.queued_messages(amqp_url)).decode(errors="replace")
    assert [s for s in secrets_of_the_person if s in messages] == []
    spool = Path(system.telephony.env["CRS_TELEPHONY_EVENT_SPOOL"])
    assert not spool.exists() or not any(s in spool.read_text() for s in secrets_of_the_person)
    logs = system.log_text()
    assert [s for s in secrets_of_the_person if s in logs] == [], [
        line[:400] for line in logs.splitlines() if any(s in line for s in secrets_of_the_person)
    ]
    assert lot_count(channel) == counted

    again = system.crs("consumer", "export", consumer_id, "--out", str(tmp_path / "again.zip"))
    assert again.returncode == 1 and "not found" in again.stderr


def test_a_legal_hold_refuses_the_erasure_and_says_what_would_release_it(system, channel):
    person = unique_person()
    consumer_id = add_consumer(system, person)
    case = capture(
        channel,
        consumer_id,
        person,
        "My child was sick after eating it.",
        issue_code="complaint.illness_injury.illness",
    )
    casework_pb2_grpc.CaseworkStub(channel).AddAction(
        casework_pb2.AddActionRequest(
            id=case.id, action_code="referred_legal", note="reported to the regulator"
        ),
        metadata=SUPERVISOR,
        timeout=10,
    )
    refused = system.crs("consumer", "erase", consumer_id, "--reason", "the consumer asked")
    assert refused.returncode == 1
    assert f"a legal hold applies: case {case.reference}: an open health-and-safety case" in refused.stderr
    assert "Released by: a supervisor resolving or closing the case" in refused.stderr
    assert system.crs("consumer", "get", consumer_id).returncode == 0


def test_a_service_down_mid_erasure_finishes_when_it_is_back_with_the_same_receipt(system, channel):
    person = unique_person()
    consumer_id = add_consumer(system, person)
    post_ledger_entry(system, consumer_id, f"INV-{uuid.uuid4().hex[:8]}")
    rights = rights_pb2_grpc.ConsumerRightsStub(channel)
    system.processes["billing"].stop()

    erasure_id = str(uuid.uuid4())
    request = rights_pb2.RequestErasureRequest(
        consumer_id=consumer_id, reason="consumer's request", erasure_id=erasure_id
    )
    rights.RequestErasure(request, metadata=SUPERVISOR, timeout=10)

    def get():
        return rights.GetErasure(
            rights_pb2.GetErasureRequest(erasure_id=erasure_id), metadata=SUPERVISOR, timeout=10
        )

    def stuck_on_billing():
        steps = {s.service: s for s in get().steps}
        return (
            steps["billing"].attempts >= 2
            and steps["billing"].last_error
            and steps["contacts"].state == "pending"
        )

    wait_for(stuck_on_billing, timeout=30, what="the erasure retrying billing, contacts not yet erased")
    system.restart("billing")
    done = wait_for(lambda: (e := get()).state == "done" and e, timeout=30, what="the erasure to complete")
    steps = {s.service: dict(s.erased) for s in done.steps}
    assert (steps["billing"]["accounts_unlinked"], steps["billing"]["ledger_entries_unlinked"]) == (1, 1)
    assert steps["contacts"]["profile"] == 1
    assert rights.RequestErasure(request, metadata=SUPERVISOR, timeout=10) == done


def test_only_supervisors_and_admins_may_export_or_erase(channel):
    rights = rights_pb2_grpc.ConsumerRightsStub(channel)
    for role in ("agent", "analyst"):
        metadata = Principal("someone", role).metadata()
        with pytest.raises(grpc.RpcError) as refused:
            rights.ExportArchive(
                rights_pb2.ExportArchiveRequest(consumer_id=str(uuid.uuid4())), metadata=metadata, timeout=10
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.RpcError) as refused:
            rights.RequestErasure(
                rights_pb2.RequestErasureRequest(consumer_id=str(uuid.uuid4()), reason="x"),
                metadata=metadata,
                timeout=10,
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as refused:
        rights.PutRetentionPolicy(
            rights_pb2.RetentionPolicy(kind="recordings", days=1), metadata=SUPERVISOR, timeout=10
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def file_call(amqp_url: str, *, number: str, key: str, started_at: datetime) -> None:
    """A recorded call ended, as telephony announces it, with its start time in the past."""
    call_id = f"{uuid.uuid4()}@test"
    message = events_pb2.CallEnded(
        call_id=call_id,
        extension="1001",
        caller=events_pb2.Caller(number=number),
        reason=events_pb2.END_REASON_COMPLETED,
        duration_seconds=5,
        recording_key=key,
    )
    message.started_at.FromDatetime(started_at)
    connection = await bus.connect(amqp_url)
    try:
        publisher = await bus.Publisher(connection, "telephony").open()
        await publisher.publish(Event.of("telephony", "call_ended", message, correlation_id=call_id))
    finally:
        await connection.close()


def test_the_retention_sweep_removes_a_recording_older_than_the_policy_and_keeps_a_younger_one(
    system, amqp_vhost
):
    amqp_url = amqp_vhost
    store = recordings.store_from_url(system.env["CRS_RECORDINGS_URL"])
    now = datetime.now(UTC)
    old, young = f"retention/{uuid.uuid4().hex}.wav", f"retention/{uuid.uuid4().hex}.wav"
    store.put(old, b"RIFF old")
    store.put(young, b"RIFF young")
    asyncio.run(file_call(amqp_url, number="+16145550142", key=old, started_at=now - timedelta(days=40)))
    asyncio.run(file_call(amqp_url, number="+16145550143", key=young, started_at=now - timedelta(days=5)))
    set_policy = system.crs("retention", "set", "recordings", "30")
    assert set_policy.returncode == 0, set_policy.stderr
    wait_for(lambda: filed_count(system) >= 2, timeout=20, what="both calls filed")
    swept = system.crs("retention", "sweep")
    assert swept.returncode == 0, swept.stderr
    assert "recordings 1" in swept.stdout
    assert not store.exists(old) and store.exists(young)
    listed = system.crs("retention", "list")
    assert "recordings                   30 days" in listed.stdout
    assert system.crs("retention", "set", "recordings", "0").returncode == 0


def filed_count(system) -> int:
    with connect(system.env["CRS_DATABASE_URL"], schema="contacts") as conn:
        return conn.execute(
            "SELECT count(*) FROM contact WHERE recording_key LIKE 'retention/%%'"
        ).fetchone()[0]


SAM, ADA = ("sam", "sam-demo-super"), ("ada", "ada-demo-1001")


def test_the_console_exports_and_erases_for_a_supervisor_with_a_reason_and_refuses_an_agent(system):
    person = unique_person()
    consumer_id = add_consumer(system, person)
    export = f"/api/consumers/{consumer_id}/export"

    assert system.console_call("GET", f"{export}?reason=asked", who=ADA)[0] == 403
    assert (
        system.console_call("POST", f"/api/consumers/{consumer_id}/erasure", who=ADA, body={"reason": "x"})[0]
        == 403
    )
    status, _, body = system.console_call("GET", export, who=SAM)
    assert status == 400 and b"reason" in body

    status, headers, body = system.console_call("GET", f"{export}?reason=subject%20access%20request", who=SAM)
    assert status == 200 and headers["Content-Type"] == "application/zip"
    everything = json.loads(zipfile.ZipFile(io.BytesIO(body)).read("everything.json"))
    assert everything["services"]["contacts"]["profile"]["name"] == person["name"]

    status, _, body = system.console_call(
        "POST",
        f"/api/consumers/{consumer_id}/erasure",
        who=SAM,
        body={"reason": "the consumer asked by email"},
    )
    assert status == 202, body
    erasure = json.loads(body)
    assert erasure["requested_by"] == "sam" and erasure["reason"] == "the consumer asked by email"

    def done():
        status, _, body = system.console_call("GET", f"/api/erasures/{erasure['id']}", who=SAM)
        return status == 200 and json.loads(body)["state"] == "done" and json.loads(body)

    receipt = wait_for(done, timeout=30, what="the erasure's receipt")
    assert [s["service"] for s in receipt["steps"]] == [
        "telephony",
        "screenpop",
        "billing",
        "fulfillment",
        "outreach",
        "contacts",
    ]
    assert {s["state"] for s in receipt["steps"]} == {"done"}
    assert system.console_call("GET", f"{export}?reason=again", who=SAM)[0] == 404
