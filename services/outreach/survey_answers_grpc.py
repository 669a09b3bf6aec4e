"""The SurveyAnswers gRPC service: the console's public survey page opens a signed link and sends the
consumer's answer. No SQL here; the desk checks the link, the scale and the first-answer rule.

The console calls as itself (permission `surveys.answer`, held by no role): the signed, expiring token is
the only key a consumer has.
"""

from __future__ import annotations

import grpc
from crs.outreach.v1 import surveys_pb2 as pb
from crs.outreach.v1 import surveys_pb2_grpc

from services.outreach.survey_answers import InvalidAnswer
from services.outreach.survey_desk import NoSuchSurvey, SurveyDesk
from services.outreach.survey_links import BadLink
from services.outreach.survey_rules_grpc import question_message
from services.runtime.grpcio import Servicer, errors_to_status

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["SurveyAnswers"].full_name
ERRORS = errors_to_status(
    {
        BadLink: grpc.StatusCode.FAILED_PRECONDITION,
        NoSuchSurvey: grpc.StatusCode.FAILED_PRECONDITION,
        InvalidAnswer: grpc.StatusCode.INVALID_ARGUMENT,
    }
)


class SurveyAnswersApi(surveys_pb2_grpc.SurveyAnswersServicer):
    def __init__(self, desk: SurveyDesk):
        self.desk = desk

    @ERRORS
    async def OpenSurvey(self, request, context):
        opened = await self.desk.open(request.token)
        survey = opened.survey
        message = pb.OpenedSurvey(
            kind=survey.rule.kind,
            language=survey.trigger.language,
            questions=[question_message(q) for q in survey.rule.questions],
            has_score=opened.score is not None,
        )
        if opened.score is not None:
            message.score = opened.score
        return message

    @ERRORS
    async def Answer(self, request, context):
        taken = await self.desk.answer(request.token, dict(request.scores), request.comment)
        return pb.AnswerReceipt(recorded=taken.answer is not None)


def servicer(desk: SurveyDesk) -> Servicer:
    return Servicer(
        SurveyAnswersApi(desk), surveys_pb2_grpc.add_SurveyAnswersServicer_to_server, SERVICE_NAME
    )
