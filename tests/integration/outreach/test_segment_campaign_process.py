"""Segments and campaigns through the gRPC API of a real outreach process, sending through a real channels
process to its mail sink, on real PostgreSQL: a segment saved shows its size, a campaign made from it is
tested, started and reaches finished with every consented consumer sent once; bad input is refused by name,
and an agent is refused by the permission table. Survey rules are saved, changed and retired there too."""

from __future__ import annotations

import uuid

import grpc
import pytest
from crs.outreach.v1 import campaigns_pb2 as pb
from crs.outreach.v1 import campaigns_pb2_grpc, segments_pb2, segments_pb2_grpc, surveys_pb2, surveys_pb2_grpc

from services.runtime import grpcio
from services.runtime.principal import Principal
from tests.integration.outreach.test_notices_to_sink import sink_mail
from tests.support import processes
from tests.support.mail_sink import channels_env
from tests.support.outreach_cohort import consumers_of_a_cohort
from tests.support.wait import async_wait_for

SUE = Principal("sue", "supervisor").metadata()
ADA = Principal("ada", "agent").metadata()


@pytest.fixture(scope="module")
def channels(service_env, tmp_path_factory):
    """A channels process delivering to a mail sink of this module's own."""
    sink, port = tmp_path_factory.mktemp("campaign-sink"), processes.free_port()
    with processes.running(channels_env(service_env, sink, port)[0], [("services.channels", port)]):
        yield f"127.0.0.1:{port}", sink


@pytest.fixture
async def outreach(service_env, channels):
    port = processes.free_port()
    env = dict(
        service_env,
        CRS_OUTREACH_GRPC=f"127.0.0.1:{port}",
        CRS_CHANNELS_GRPC=channels[0],
        CRS_OUTREACH_SENDER_IDLE="0.2",
    )
    with processes.running(env, [("services.outreach", port)]):
        channel = grpcio.channel(f"127.0.0.1:{port}", default_deadline=10)
        try:
            yield (
                segments_pb2_grpc.SegmentsStub(channel),
                campaigns_pb2_grpc.CampaignsStub(channel),
                surveys_pb2_grpc.SurveyRulesStub(channel),
            )
        finally:
            await channel.close()


async def test_a_campaign_to_a_saved_segment_runs_to_finished_and_sends_each_consented_consumer_once(
    outreach,
    channels,
    database_url,
):
    segments, campaigns, _ = outreach
    run = uuid.uuid4().hex[:10]
    await consumers_of_a_cohort(database_url, run, consented=3, others=1)
    definition = segments_pb2.SegmentDefinition(attributes={"cohort": run}, languages=["en"])
    counted = await segments.SegmentSize(definition, metadata=SUE)
    assert counted.size == 3  # the one who did not agree to marketing is not counted
    saved = await segments.SaveSegment(
        segments_pb2.SaveSegmentRequest(name=f"Cohort {run}", definition=definition), metadata=SUE
    )
    assert (saved.size, saved.created_by, saved.definition.consent) == (3, "sue", "marketing")
    listed = await segments.ListSegments(segments_pb2.ListSegmentsRequest(), metadata=SUE)
    assert [s.size for s in listed.segments if s.id == saved.id] == [3]

    made = await campaigns.CreateCampaign(
        pb.CreateCampaignRequest(name=f"Spring {run}", segment_id=saved.id, subject="Spring", body="Oats!",
                                 rate_per_second=20),
        metadata=SUE,
    )  # fmt: skip
    assert (made.progress.state, made.segment_name, made.created_by) == ("draft", f"Cohort {run}", "sue")
    await campaigns.MoveCampaign(
        pb.MoveCampaignRequest(campaign_id=made.id, move="test", test_to=f"sue-{run}@example.org"),
        metadata=SUE,
    )
    started = await campaigns.MoveCampaign(
        pb.MoveCampaignRequest(campaign_id=made.id, move="start"), metadata=SUE
    )
    assert (started.state, started.total) == ("running", 3)

    async def finished():
        shown = await campaigns.GetCampaign(pb.GetCampaignRequest(campaign_id=made.id), metadata=SUE)
        return shown if shown.progress.state == "finished" else None

    shown = await async_wait_for(finished, timeout=30, what="the campaign finished")
    assert (shown.progress.sent, shown.progress.remaining, shown.progress.failed) == (3, 0, 0)
    assert shown.started_at and shown.finished_at and shown.tested_to == f"sue-{run}@example.org"

    _, sink = channels
    mail = await async_wait_for(lambda: _at_least(sink, run, 4), timeout=30, what="4 mails in the sink")
    assert sorted(str(m["To"]) for m in mail) == sorted(
        [f"c{i}-{run}@example.org" for i in range(3)] + [f"sue-{run}@example.org"]
    )
    assert [str(m["Subject"]) for m in mail if str(m["To"]).startswith("sue")] == ["[Test] Spring"]


async def _at_least(sink, run: str, count: int):
    mail = sink_mail(sink, run)
    return mail if len(mail) >= count else None


async def test_bad_segments_and_campaigns_are_refused_by_name_and_an_agent_by_the_table(outreach):
    segments, campaigns, _ = outreach
    run = uuid.uuid4().hex[:10]
    refusals = [
        (segments.SaveSegment(segments_pb2.SaveSegmentRequest(
            name=f"Bad {run}", definition=segments_pb2.SegmentDefinition(consent="spam")), metadata=SUE),
         grpc.StatusCode.INVALID_ARGUMENT, "consent: one of"),
        (segments.GetSegment(segments_pb2.GetSegmentRequest(id=str(uuid.uuid4())), metadata=SUE),
         grpc.StatusCode.NOT_FOUND, ""),
        (campaigns.CreateCampaign(pb.CreateCampaignRequest(name="x", segment_id=str(uuid.uuid4()),
                                                           subject="s", body="b"), metadata=SUE),
         grpc.StatusCode.NOT_FOUND, ""),
        (campaigns.CreateCampaign(pb.CreateCampaignRequest(name="x", segment_id="nope"), metadata=SUE),
         grpc.StatusCode.INVALID_ARGUMENT, "segment id must be a UUID"),
        (segments.ListSegments(segments_pb2.ListSegmentsRequest(), metadata=ADA),
         grpc.StatusCode.PERMISSION_DENIED, ""),
    ]  # fmt: skip
    for call, code, said in refusals:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call
        assert refused.value.code() == code
        assert said in refused.value.details()
    first = segments_pb2.SaveSegmentRequest(name=f"Twice {run}", definition=segments_pb2.SegmentDefinition())
    saved = await segments.SaveSegment(first, metadata=SUE)
    with pytest.raises(grpc.aio.AioRpcError) as taken:
        await segments.SaveSegment(first, metadata=SUE)
    assert taken.value.code() == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.aio.AioRpcError) as empty:
        await campaigns.CreateCampaign(
            pb.CreateCampaignRequest(name="Empty", segment_id=saved.id, subject="s", body=" "), metadata=SUE
        )
    assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "a name, a subject and a body" in empty.value.details()
    listed = await campaigns.ListCampaigns(pb.ListCampaignsRequest(), metadata=SUE)
    assert not [c for c in listed.campaigns if c.segment_id == saved.id]  # nothing refused was made


async def test_a_survey_rule_is_saved_changed_and_retired_and_a_bad_one_is_refused_by_name(outreach):
    _, _, rules = outreach
    rule_id = f"csat-{uuid.uuid4().hex[:8]}"
    rule = surveys_pb2.SurveyRule(id=rule_id, name="Complaints", kind="csat", issue_prefix="complaint",
                                  delay_minutes=2880, suppress_days=30)  # fmt: skip
    saved = await rules.SaveSurveyRule(rule, metadata=SUE)
    assert (saved.enabled, saved.trigger) == (True, "contact_resolved")
    rule.delay_minutes = 60
    await rules.SaveSurveyRule(rule, metadata=SUE)
    listed = await rules.ListSurveyRules(surveys_pb2.ListSurveyRulesRequest(), metadata=SUE)
    assert [(r.delay_minutes, r.enabled) for r in listed.rules if r.id == rule_id] == [(60, True)]
    retired = await rules.RetireSurveyRule(surveys_pb2.RetireSurveyRuleRequest(id=rule_id), metadata=SUE)
    assert not retired.enabled
    listed = await rules.ListSurveyRules(surveys_pb2.ListSurveyRulesRequest(), metadata=SUE)
    assert [r.enabled for r in listed.rules if r.id == rule_id] == [False]
    refusals = [
        (rules.SaveSurveyRule(surveys_pb2.SurveyRule(id=rule_id, kind="poll"), metadata=SUE),
         grpc.StatusCode.INVALID_ARGUMENT, "questions: a poll has 1 to 5"),
        (rules.RetireSurveyRule(surveys_pb2.RetireSurveyRuleRequest(id="none-such"), metadata=SUE),
         grpc.StatusCode.NOT_FOUND, "no survey rule"),
        (rules.SaveSurveyRule(rule, metadata=Principal("quinn", "analyst").metadata()),
         grpc.StatusCode.PERMISSION_DENIED, ""),
    ]  # fmt: skip
    for call, code, said in refusals:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call
        assert (refused.value.code(), said in refused.value.details()) == (code, True)
