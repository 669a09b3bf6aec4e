"""The public survey page's words in each consumer language, and its questions for a survey's kind.

The page is plain HTML (templates/public/survey.html): a form that posts back to itself, one fieldset with a
legend per question, a labelled radio per score, errors in a summary announced with role="alert" and next to
the question. It carries no script, so it works with JavaScript off. A language without words falls back to
English.
"""

from __future__ import annotations

from dataclasses import dataclass

WORDS = {
    "en": {
        "lang": "en",
        "title": "How did we do?",
        "csat": "How satisfied are you with how we handled your request?",
        "nps": "How likely are you to recommend us to a friend or colleague?",
        "low_csat": "very dissatisfied",
        "high_csat": "very satisfied",
        "low_nps": "not at all likely",
        "high_nps": "extremely likely",
        "low_poll": "lowest",
        "high_poll": "highest",
        "comment": "Anything you would like to add? (optional)",
        "send": "Send my answer",
        "thanks": "Thank you. Your answer has been recorded.",
        "error_title": "There is a problem",
    },
    "fr": {
        "lang": "fr",
        "title": "Votre avis nous intéresse",
        "csat": "Êtes-vous satisfait de la façon dont nous avons traité votre demande ?",
        "nps": "Quelle est la probabilité que vous nous recommandiez à un proche ou un collègue ?",
        "low_csat": "très insatisfait",
        "high_csat": "très satisfait",
        "low_nps": "pas du tout probable",
        "high_nps": "très probable",
        "low_poll": "le plus bas",
        "high_poll": "le plus haut",
        "comment": "Souhaitez-vous ajouter quelque chose ? (facultatif)",
        "send": "Envoyer ma réponse",
        "thanks": "Merci. Votre réponse a été enregistrée.",
        "error_title": "Un problème est survenu",
    },
    "es": {
        "lang": "es",
        "title": "¿Qué tal lo hicimos?",
        "csat": "¿Qué tan satisfecho está con la atención a su solicitud?",
        "nps": "¿Qué probabilidad hay de que nos recomiende a un amigo o colega?",
        "low_csat": "muy insatisfecho",
        "high_csat": "muy satisfecho",
        "low_nps": "nada probable",
        "high_nps": "muy probable",
        "low_poll": "lo más bajo",
        "high_poll": "lo más alto",
        "comment": "¿Desea añadir algo? (opcional)",
        "send": "Enviar mi respuesta",
        "thanks": "Gracias. Hemos registrado su respuesta.",
        "error_title": "Hay un problema",
    },
}
SCALES = {"csat": (1, 5), "nps": (0, 10)}


@dataclass(frozen=True)
class PageQuestion:
    key: str
    text: str
    low: int
    high: int
    low_words: str
    high_words: str


def words_for(language: str) -> dict[str, str]:
    return WORDS.get((language or "en").split("-")[0].lower(), WORDS["en"])


def questions_for(kind: str, language: str, poll: list[dict] | None = None) -> list[PageQuestion]:
    """The page's questions: the kind's one question, or each poll question in the consumer's language."""
    words = words_for(language)
    if kind in SCALES:
        low, high = SCALES[kind]
        return [PageQuestion("score", words[kind], low, high, words[f"low_{kind}"], words[f"high_{kind}"])]
    lang = words["lang"]
    return [
        PageQuestion(
            q["key"],
            q["text"].get(lang) or q["text"]["en"],
            q.get("low", 1),
            q.get("high", 5),
            words["low_poll"],
            words["high_poll"],
        )
        for q in poll or []
    ]


def context(
    kind: str,
    language: str,
    *,
    action: str,
    poll: list[dict] | None = None,
    errors: dict[str, str] | None = None,
    chosen: dict[str, int] | None = None,
    comment: str = "",
    thanks: bool = False,
) -> dict:
    """What templates/public/survey.html needs."""
    return {
        "words": words_for(language),
        "questions": questions_for(kind, language, poll),
        "action": action,
        "errors": errors or {},
        "chosen": chosen or {},
        "comment": comment,
        "thanks": thanks,
    }
