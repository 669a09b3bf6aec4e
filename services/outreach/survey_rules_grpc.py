"""The SurveyRules gRPC service: the sending rules an admin lists, saves and retires. No SQL here; a rule is
read from the request by survey_rules.rule_from_input, as the console's form is.

Permissions are checked by the server from the one table (services/runtime/permissions.py).
"""

from __future__ import annotations

import grpc
from crs.outreach.v1 import surveys_pb2 as pb
from crs.outreach.v1 import surveys_pb2_grpc

from services.outreach.segments_grpc import actor
from services.outreach.survey_rules import InvalidRule, Rule, rule_from_input
from services.outreach.survey_store import SurveyStore
from services.runtime.grpcio import Servicer, errors_to_status

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["SurveyRules"].full_name
ERRORS = errors_to_status({InvalidRule: grpc.StatusCode.INVALID_ARGUMENT})


def input_of(message: pb.SurveyRule) -> dict:
    """The request as the values rule_from_input reads."""
    return {
        "id": message.id,
        "name": message.name,
        "trigger": message.trigger,
        "kind": message.kind,
        "issue_prefix": message.issue_prefix,
        "delay_minutes": message.delay_minutes,
        "suppress_days": message.suppress_days,
        # Saving a rule enables it; retiring is the one way to stop it.
        "enabled": True,
        "questions": [
            {"key": q.key, "text": dict(q.text), "low": q.low, "high": q.high} for q in message.questions
        ],
    }


def rule_message(rule: Rule) -> pb.SurveyRule:
    return pb.SurveyRule(
        id=rule.id,
        name=rule.name,
        trigger=rule.trigger,
        kind=rule.kind,
        issue_prefix=rule.issue_prefix,
        delay_minutes=int(rule.delay.total_seconds() // 60),
        suppress_days=rule.suppress_for.days,
        enabled=rule.enabled,
        questions=[question_message(q) for q in rule.questions],
    )


def question_message(question) -> pb.PollQuestion:
    return pb.PollQuestion(key=question.key, text=question.text, low=question.low, high=question.high)


class SurveyRulesApi(surveys_pb2_grpc.SurveyRulesServicer):
    def __init__(self, surveys: SurveyStore):
        self.surveys = surveys

    @ERRORS
    async def ListSurveyRules(self, request, context):
        return pb.ListSurveyRulesResponse(rules=[rule_message(r) for r in await self.surveys.rules()])

    @ERRORS
    async def SaveSurveyRule(self, request, context):
        rule = rule_from_input(input_of(request))
        await self.surveys.put_rule(rule, actor=actor(context))
        return rule_message(rule)

    @ERRORS
    async def RetireSurveyRule(self, request, context):
        retired = await self.surveys.retire(request.id, actor=actor(context))
        if retired is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no survey rule {request.id!r}")
        return rule_message(retired)


def servicer(surveys: SurveyStore) -> Servicer:
    return Servicer(SurveyRulesApi(surveys), surveys_pb2_grpc.add_SurveyRulesServicer_to_server, SERVICE_NAME)
