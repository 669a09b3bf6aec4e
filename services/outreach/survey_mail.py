"""What outreach reads from contacts' `contact_resolved`, and the survey email it sends.

The trigger is built from the event's case (the JSON mapping of crs.contacts.v1.Case): who handled it
(team, assignee), its channel and language. A case with no consumer on file gets no survey.
The email has one link per score (the one-click rating) and a link to the page; the List-Unsubscribe
headers (RFC 8058) are added by the sender through outreach's shared helper, as for every survey.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.outreach.survey_rules import Trigger, score_range

SUBJECT = {
    "en": "How did we do? One click tells us",
    "fr": "Votre avis en un clic",
    "es": "¿Qué tal lo hicimos? Un clic basta",
}
ASK = {
    "en": "Please rate how we handled your request {reference}:",
    "fr": "Merci d'évaluer le traitement de votre demande {reference} :",
    "es": "Valore cómo atendimos su solicitud {reference}:",
}
MORE = {"en": "Add a comment", "fr": "Ajouter un commentaire", "es": "Añadir un comentario"}


class NotATrigger(ValueError):
    """An event outreach cannot read as a trigger; logged and acknowledged, never retried."""


def trigger_of(event_type: str, data: dict, occurred_at: datetime) -> Trigger:
    case = data.get("case")
    if not isinstance(case, dict) or not case.get("id"):
        raise NotATrigger(f"{event_type}: no case in the event")
    return Trigger(
        type=event_type,
        case_id=str(case["id"]),
        consumer_id=str(case.get("consumer_id") or ""),
        issue_code=str(case.get("issue_code") or ""),
        language=str(case.get("language") or "en"),
        team=str(case.get("team") or ""),
        agent=str(case.get("assignee") or ""),
        channel=str(case.get("channel") or ""),
        occurred_at=occurred_at,
    )


@dataclass(frozen=True)
class SurveyEmail:
    subject: str
    text: str
    html: str


def compose(kind: str, language: str, *, reference: str, base_url: str, links: dict) -> SurveyEmail:
    """The email in the consumer's language: each score a link, then the page for a comment or a poll."""
    lang = language.split("-")[0].lower() if language.split("-")[0].lower() in SUBJECT else "en"
    # Without a case number the sentence reads on without it ("your request:").
    ask = ASK[lang].replace(" {reference}", f" {reference}" if reference else "")
    page = f"{base_url}/s/{links['page']}"
    scores = sorted(links["scores"].items()) if kind != "poll" else []
    low, high = score_range(kind) if kind != "poll" else (0, 0)
    text_lines = [ask, ""] + [f"{s}: {base_url}/s/{t}" for s, t in scores] + ["", f"{MORE[lang]}: {page}"]
    items = "".join(
        f'<a href="{base_url}/s/{t}" style="display:inline-block;padding:8px 12px;margin:2px;border:1px solid #595959;'
        f'color:#1a1a1a;text-decoration:none">{s}</a>'
        for s, t in scores
    )
    scale = f"<p>{low} … {high}</p>" if scores else ""
    html = (
        f'<!doctype html><html lang="{lang}"><body><p>{ask}</p>{scale}<p>{items}</p>'
        f'<p><a href="{page}">{MORE[lang]}</a></p></body></html>'
    )
    return SurveyEmail(SUBJECT[lang], "\n".join(text_lines), html)
