"""The console's survey page over outreach's SurveyAnswers: what the consumer sees for each of outreach's
answers (a gRPC stub that answers as told stands in for outreach)."""

from __future__ import annotations

import aiohttp
import grpc
from aiohttp import web
from aiohttp.test_utils import TestServer
from crs.outreach.v1 import surveys_pb2 as pb

from services.console import survey_web
from services.console.routes import survey_answers


def refusal(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)


class Outreach:
    """The clients' survey_answers stub and call(), answering each method as `answers` says."""

    def __init__(self, **answers):
        self.answers, self.asked = answers, []
        self.survey_answers = self

    def __getattr__(self, method: str):
        return method

    async def call(self, method: str, request, who):
        self.asked.append((method, request, who))
        answer = self.answers[method]
        if isinstance(answer, Exception):
            raise answer
        return answer


async def page(outreach: Outreach, method: str, path: str, **kwargs) -> tuple[int, str]:
    app = web.Application()
    app[survey_web.DESK] = survey_answers.OutreachSurveys(outreach)
    app.add_routes(survey_answers.routes)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, server.make_url(path), **kwargs) as r,
        ):
            return r.status, await r.text()
    finally:
        await server.close()


OPENED = pb.OpenedSurvey(kind="csat", language="es", has_score=True, score=4)


async def test_a_one_click_link_is_answered_as_the_console_itself_and_thanked_in_the_language():
    outreach = Outreach(OpenSurvey=OPENED, Answer=pb.AnswerReceipt(recorded=True))
    status, text = await page(outreach, "GET", "/s/tok")
    assert status == 200 and "Gracias" in text
    (_, opened, who), (_, answered, _) = outreach.asked
    assert who is None  # no person acts: the console's own identity
    assert (opened.token, answered.token, dict(answered.scores)) == ("tok", "tok", {"score": "4"})


async def test_an_altered_link_is_the_gone_page_with_outreach_s_reason():
    outreach = Outreach(OpenSurvey=refusal(grpc.StatusCode.FAILED_PRECONDITION, "this link was altered"))
    status, text = await page(outreach, "GET", "/s/tok")
    assert status == 410 and "this link was altered" in text


async def test_a_score_off_the_scale_is_shown_at_its_question():
    outreach = Outreach(
        OpenSurvey=pb.OpenedSurvey(kind="csat", language="en"),
        Answer=refusal(grpc.StatusCode.INVALID_ARGUMENT, "score: choose a number from 1 to 5"),
    )
    status, text = await page(outreach, "POST", "/s/tok", data={"score": "9"})
    assert status == 422 and "choose a number from 1 to 5" in text and 'role="alert"' in text


async def test_outreach_out_of_reach_asks_to_try_again_later():
    outreach = Outreach(OpenSurvey=refusal(grpc.StatusCode.UNAVAILABLE, "connection refused"))
    status, text = await page(outreach, "GET", "/s/tok")
    assert status == 503 and "try the link again later" in text


async def test_a_token_too_long_to_be_a_link_is_not_sent_to_outreach():
    outreach = Outreach()
    status, text = await page(outreach, "GET", "/s/" + "x" * 400)
    assert status == 410 and "not a survey link" in text and outreach.asked == []
