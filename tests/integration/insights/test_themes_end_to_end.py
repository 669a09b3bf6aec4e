"""Verbatims grouped by theme, end to end: cases captured in contacts reach insights as casework's events on
RabbitMQ; insights keeps each verbatim redacted, has knowledge's model embed them (over gRPC, as itself)
and answers the themes and the contacts behind each over gRPC; erasing a consumer in contacts publishes
`contacts_anonymised`, and their verbatim is gone from insights.

Contacts, knowledge (with wordllama, the light model: the path is what is tested here; the choice of
model is bench/themes_quality.py's) and insights run as their own processes on a database and vhost of
this module's own.
"""

from __future__ import annotations

import uuid

import grpc
import pytest
from crs.common.v1 import privacy_pb2 as common
from crs.contacts.v1 import casework_pb2 as cpb
from crs.contacts.v1 import contacts_pb2 as kpb
from crs.contacts.v1 import contacts_pb2_grpc, privacy_pb2_grpc
from crs.insights.v1 import themes_pb2 as pb
from crs.insights.v1 import themes_pb2_grpc

from services.runtime import grpcio
from services.runtime.principal import Principal
from tests.integration.contacts.case_support import Caller
from tests.support import infra
from tests.support.processes import free_port, running
from tests.support.wait import async_wait_for
from tests.unit.insights.theme_cases import ENGLISH

QUINN = Principal("quinn", "analyst").metadata()
SAM = Principal("sam", "supervisor", team="north").metadata()
NAME, PHONE = "Odile Brunet", "+16145550199"
SKU = "OAT-500"


@pytest.fixture(scope="module")
def stack(service_env):
    with infra.migrated_database("crs_themes") as database, infra.own_vhost("crs-themes") as vhost:
        ports = {name: free_port() for name in ("contacts", "http", "knowledge", "insights")}
        env = {
            **service_env,
            "CRS_DATABASE_URL": database,
            "CRS_AMQP_URL": vhost,
            "CRS_CONTACTS_GRPC": f"127.0.0.1:{ports['contacts']}",
            "CRS_CONTACTS_HTTP": f"127.0.0.1:{ports['http']}",
            "CRS_KNOWLEDGE_GRPC": f"127.0.0.1:{ports['knowledge']}",
            "CRS_KNOWLEDGE_EMBEDDER": "wordllama",
            "CRS_INSIGHTS_GRPC": f"127.0.0.1:{ports['insights']}",
        }
        services = (("services.contacts", ports["contacts"]), ("services.knowledge", ports["knowledge"]),
                    ("services.insights", ports["insights"]))  # fmt: skip
        with running(env, services):
            yield env


async def _themes(stub, **scope) -> pb.GetThemesResponse:
    request = pb.GetThemesRequest(scope=pb.ThemeScope(sku=SKU, **scope), refresh=True)
    return await stub.GetThemes(request, metadata=QUINN, timeout=60)


async def _contacts_by_theme(stub, run: pb.GetThemesResponse) -> dict[str, dict[str, str]]:
    found = {}
    for theme in run.themes:
        listed = await stub.ListThemeContacts(
            pb.ListThemeContactsRequest(run_id=run.run_id, theme_id=theme.id), metadata=QUINN, timeout=20
        )
        assert listed.total == theme.size == len(listed.contacts)
        found[theme.id] = {c.contact_id: c.verbatim for c in listed.contacts}
    return found


async def test_captured_verbatims_become_redacted_themes_and_an_erased_consumers_goes(stack):
    env = stack
    async with (
        grpcio.channel(env["CRS_CONTACTS_GRPC"]) as contacts_channel,
        grpcio.channel(env["CRS_INSIGHTS_GRPC"]) as insights_channel,
    ):
        agent = Caller(contacts_channel, "ada")
        consumer = await contacts_pb2_grpc.ContactsStub(contacts_channel).CreateConsumer(
            kpb.CreateConsumerRequest(consumer=kpb.Consumer(name=NAME), region="US"),
            metadata=Principal("ada", "agent").metadata(),
            timeout=10,
        )
        cases = []
        for label, text in ENGLISH:
            code = {"plastic": "complaint.quality.foreign_object.plastic", "stale": "complaint.quality.taste_odour",
                    "where": "question.where_to_buy"}[label]  # fmt: skip
            made = await agent.capture(
                issue_code=code, channel="phone", verbatim=text, product=cpb.Product(sku=SKU, lot_code="L3")
            )
            cases.append(made.id)
        theirs = await agent.capture(
            channel="phone",
            consumer_id=consumer.id,
            verbatim=f"This is {NAME}, call me on {PHONE}: a sharp plastic piece in the oats, lot L3.",
            reporter=cpb.Reporter(name=NAME, phone=PHONE),
            product=cpb.Product(sku=SKU, lot_code="L3"),
        )

        themes = themes_pb2_grpc.ThemesStub(insights_channel)

        async def all_held():
            run = await _themes(themes)
            return run if run.verbatims == len(cases) + 1 else None

        run = await async_wait_for(all_held, timeout=60, interval=0.5, what="insights to hold every verbatim")
        assert run.representation == "wordllama", "the knowledge service's model embedded them"
        assert sum(t.size for t in run.themes) == len(cases) + 1
        assert all(t.label and t.weeks for t in run.themes)
        held = await _contacts_by_theme(themes, run)
        verbatims = {c: v for by_theme in held.values() for c, v in by_theme.items()}
        assert set(verbatims) == {*cases, theirs.id}
        assert NAME not in verbatims[theirs.id] and "0199" not in verbatims[theirs.id]
        assert "[phone]" in verbatims[theirs.id] and "lot L3" in verbatims[theirs.id]

        questions = await _themes(themes, issue_prefix="question")
        assert sum(t.size for t in questions.themes) == sum(1 for label, _ in ENGLISH if label == "where")

        await privacy_pb2_grpc.PrivacyStub(contacts_channel).EraseConsumer(
            common.EraseConsumerRequest(
                consumer=common.ConsumerKeys(consumer_id=consumer.id), erasure_id=str(uuid.uuid4())
            ),
            metadata=SAM,
            timeout=20,
        )

        async def run_dropped():
            try:
                await themes.ListThemeContacts(
                    pb.ListThemeContactsRequest(run_id=run.run_id, theme_id="1"), metadata=QUINN, timeout=20
                )
            except grpc.aio.AioRpcError as exc:
                return exc.code() == grpc.StatusCode.NOT_FOUND
            return False

        await async_wait_for(run_dropped, timeout=30, interval=0.3, what="the erasure to reach insights")
        after = await _themes(themes)
        assert after.verbatims == len(cases)
        remaining = await _contacts_by_theme(themes, after)
        assert theirs.id not in {c for by_theme in remaining.values() for c in by_theme}
