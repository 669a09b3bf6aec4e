"""The reply-fulfillment stack as processes: billing, the fulfillment API (with its relay) and the
nameko worker, on this run's database and vhost. Contacts is a stand-in gRPC server in the test process
that answers GetCase and GetConsumer from a dictionary: fulfillment only reads who a case's consumer
is, and the stand-in lets each test choose phones and addresses to share a household. It also takes the
actions channels adds to a case (AddAction), for the tests that email a letter."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field

import grpc
import pika
import psycopg
import pytest
from crs.billing.v1 import billing_pb2_grpc
from crs.contacts.v1 import casework_pb2, casework_pb2_grpc, contacts_pb2, contacts_pb2_grpc
from crs.fulfillment.v1 import fulfillment_pb2, fulfillment_pb2_grpc

from services.runtime.grpcio import blocking_channel, server_credentials
from services.runtime.principal import Principal
from tests.support.processes import ServiceProcess, free_port
from tests.support.wait import wait_for

WORKER_QUEUE = "evt-fulfillment-fulfillment_approved--fulfillment_workflows.on_approved"
AGENT = Principal("ada", "agent")
SUPERVISOR = Principal("sam", "supervisor")
# Stock, carriers and returns are run by operations: an admin in the permission table.
OPERATOR = Principal("ops", "admin")


@dataclass
class Directory:
    cases: dict[str, casework_pb2.Case] = field(default_factory=dict)
    consumers: dict[str, contacts_pb2.Consumer] = field(default_factory=dict)
    actions: list[casework_pb2.AddActionRequest] = field(default_factory=list)

    def add_case(
        self,
        *,
        phones=(),
        address=None,
        country="US",
        name="Test Consumer",
        language="en",
        city="",
        area="",
        emails=(),
    ) -> str:
        """A consumer with these phones and address, and a complaint case for them; returns the case id."""
        consumer_id, case_id = str(uuid.uuid4()), str(uuid.uuid4())
        addresses = []
        if address is not None:
            addresses.append(
                contacts_pb2.PostalAddress(
                    region_code=country,
                    address_lines=[address[0]],
                    postal_code=address[1],
                    locality=city,
                    administrative_area=area,
                )
            )
        self.consumers[consumer_id] = contacts_pb2.Consumer(
            id=consumer_id,
            name=name,
            language=language,
            phones=[contacts_pb2.PhoneNumber(number=p) for p in phones],
            addresses=addresses,
            emails=[contacts_pb2.Email(address=e, type="personal") for e in emails],
        )
        self.cases[case_id] = casework_pb2.Case(
            id=case_id, consumer_id=consumer_id, issue_code="complaint", reference=len(self.cases) + 1000
        )
        return case_id


class _Casework(casework_pb2_grpc.CaseworkServicer):
    def __init__(self, directory: Directory):
        self.directory = directory

    def GetCase(self, request, context):
        if request.id not in self.directory.cases:
            context.abort(grpc.StatusCode.NOT_FOUND, "no such case")
        return self.directory.cases[request.id]

    def AddAction(self, request, context):
        if request.id not in self.directory.cases:
            context.abort(grpc.StatusCode.NOT_FOUND, "no such case")
        self.directory.actions.append(request)
        return self.directory.cases[request.id]


class _Contacts(contacts_pb2_grpc.ContactsServicer):
    def __init__(self, directory: Directory):
        self.directory = directory

    def GetConsumer(self, request, context):
        if request.id not in self.directory.consumers:
            context.abort(grpc.StatusCode.NOT_FOUND, "no such consumer")
        return self.directory.consumers[request.id]


@pytest.fixture(scope="session")
def directory():
    found = Directory()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    casework_pb2_grpc.add_CaseworkServicer_to_server(_Casework(found), server)
    contacts_pb2_grpc.add_ContactsServicer_to_server(_Contacts(found), server)
    port = server.add_secure_port("127.0.0.1:0", server_credentials())
    server.start()
    found.target = f"127.0.0.1:{port}"
    yield found
    server.stop(0)


@dataclass
class Stack:
    env: dict
    fulfillment: fulfillment_pb2_grpc.FulfillmentStub
    billing: billing_pb2_grpc.BillingStub
    worker: ServiceProcess
    database_url: str
    processes: tuple[ServiceProcess, ...] = ()

    def start_worker(self) -> ServiceProcess:
        port = int(self.env["CRS_FULFILLMENT_WORKER_METRICS_PORT"])
        self.worker = ServiceProcess("services.fulfillment.worker", self.env).start(wait_port=port)
        wait_for(
            lambda: queue_exists(self.env["CRS_AMQP_URL"], WORKER_QUEUE), timeout=30, what="worker queue"
        )
        return self.worker

    def call(self, method: str, request, principal: Principal = AGENT):
        return getattr(self.fulfillment, method)(request, metadata=principal.metadata(), timeout=10)

    def request(
        self,
        case_id: str,
        kind: str,
        *,
        value=0,
        currency="USD",
        sku="",
        quantity=1,
        template="",
        principal=AGENT,
        delivery="",
    ):
        from crs.common.v1 import money_pb2

        return self.call(
            "RequestFulfillment",
            fulfillment_pb2.RequestFulfillmentRequest(
                case_id=case_id,
                kind=kind,
                value=money_pb2.Money(currency=currency, amount_minor=value),
                sku=sku,
                quantity=quantity,
                template=template,
                delivery=delivery,
            ),
            principal,
        )

    def get(self, fulfillment_id: str) -> fulfillment_pb2.FulfillmentRequest:
        return self.call("GetFulfillment", fulfillment_pb2.GetFulfillmentRequest(id=fulfillment_id))

    def wait_state(self, fulfillment_id: str, *states: str, timeout: float = 30.0):
        return wait_for(
            lambda: (f := self.get(fulfillment_id)).state in states and f,
            timeout=timeout,
            what=f"{fulfillment_id} to reach {states}",
        )

    def sql(self, query: str, params=()):
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []


def queue_exists(amqp_url: str, name: str) -> bool:
    try:
        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    except pika.exceptions.AMQPError:
        return False
    try:
        connection.channel().queue_declare(name, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        if connection.is_open:
            connection.close()


@pytest.fixture(scope="session")
def stack(service_env, database_url, directory):
    with running_stack(service_env, database_url, directory) as started:
        yield started


@contextmanager
def running_stack(
    service_env: dict, database_url: str, directory: Directory, **settings: str
) -> Iterator[Stack]:
    """Billing, the fulfillment API and its worker on `database_url` and the broker of `service_env`;
    `settings` override the environment below."""
    fulfillment_port, billing_port, worker_metrics = free_port(), free_port(), free_port()
    env = dict(
        service_env,
        CRS_FULFILLMENT_GRPC=f"127.0.0.1:{fulfillment_port}",
        CRS_BILLING_GRPC=f"127.0.0.1:{billing_port}",
        CRS_CONTACTS_GRPC=directory.target,
        CRS_FULFILLMENT_WORKER_METRICS_PORT=str(worker_metrics),
        CRS_FULFILLMENT_SWEEP_SECONDS="1",
        CRS_FULFILLMENT_ESCALATE_AFTER_SECONDS="2",
        CRS_FULFILLMENT_STALLED_AFTER_SECONDS="30",
        CRS_FULFILLMENT_DEMO_CARRIER_SECONDS="0.5",
        # `crs fulfilment ... --as USER` acts for a person from the "cli" identity; this deployment trusts it
        # to, as an operator may choose (docs/security.md). The console alone is the default.
        CRS_PRINCIPAL_ISSUERS="console,cli",
        CRS_DATABASE_URL=database_url,
    )
    env.update(settings)
    billing = ServiceProcess("services.billing", env).start(wait_port=billing_port)
    api = ServiceProcess("services.fulfillment", env).start(wait_port=fulfillment_port)
    stack = Stack(
        env=env,
        fulfillment=fulfillment_pb2_grpc.FulfillmentStub(blocking_channel(env["CRS_FULFILLMENT_GRPC"])),
        billing=billing_pb2_grpc.BillingStub(blocking_channel(env["CRS_BILLING_GRPC"])),
        worker=None,
        database_url=database_url,
        processes=(billing, api),
    )
    stack.start_worker()
    yield stack
    if stack.worker.process.poll() is None:
        assert stack.worker.stop() == 0, stack.worker.output()
    assert api.stop() == 0
    assert billing.stop() == 0
