"""The public survey page (`/s/{token}`, services/console/survey_web.py) over outreach's SurveyAnswers gRPC.

Only outreach holds the link secret, so the page asks outreach for the survey and sends it the answer, as
the console itself (permission `surveys.answer`, held by no role): no person acts here. Outreach's refusals
become the page's own: a bad or expired link is SurveyGone (its 410 page), an answer off the scale is
AnswerRefused at its question, and outreach out of reach is SurveyUnavailable (503, try again later).
"""

from __future__ import annotations

import logging

import grpc
from crs.outreach.v1 import surveys_pb2 as pb

from services.console import survey_web

log = logging.getLogger(__name__)
routes = survey_web.routes()
MAX_TOKEN = 300


class OutreachSurveys:
    """The desk survey_web asks, over the console's gRPC clients."""

    def __init__(self, clients):
        self.clients = clients

    async def open(self, token: str) -> survey_web.SurveyView:
        opened = await self._ask("OpenSurvey", pb.SurveyToken(token=self._checked(token)))
        poll = [{"key": q.key, "text": dict(q.text), "low": q.low, "high": q.high} for q in opened.questions]
        return survey_web.SurveyView(
            opened.kind, opened.language or "en", poll, opened.score if opened.has_score else None
        )

    async def answer(self, token: str, scores: dict, comment: str) -> None:
        await self._ask("Answer", pb.SurveyAnswer(token=self._checked(token), scores=scores, comment=comment))

    @staticmethod
    def _checked(token: str) -> str:
        if len(token) > MAX_TOKEN:
            raise survey_web.SurveyGone("this link is not a survey link")
        return token

    async def _ask(self, method: str, request):
        clients = self.clients
        try:
            return await clients.call(getattr(clients.survey_answers, method), request, None)
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.FAILED_PRECONDITION:
                raise survey_web.SurveyGone(error.details()) from None
            if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
                question = (error.details() or "").split(":", 1)[0]
                raise survey_web.AnswerRefused(question, error.details()) from None
            log.warning("survey page: outreach answered %s", error.code().name)
            raise survey_web.SurveyUnavailable() from None
