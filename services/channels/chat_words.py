"""What the chat assistant says, in the consumer's language (English where it has none in theirs)."""

from __future__ import annotations

from services.channels.chat_bot import (
    ASKED_FOR_PERSON,
    LOW_CONFIDENCE,
    SAFETY,
    UNANSWERED,
    Reply,
    Shop,
)

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "stores_away": "I cannot look up stores just now: ask me again in a moment, or talk to a person.",
        "source": "From our article: {title}",
        "other_language": "(This article is in {language}: we have none in yours yet.)",
        "postcode": "Tell me your postcode and I will list the nearest stores that have it in stock.",
        "stores": "The nearest stores with it in stock, from {postcode}:",
        "no_stores": "No store near {postcode} has it in stock just now; our online shop does.",
        "no_place": "I could not find the postcode {postcode}. Please check it, or ask me anything else.",
        SAFETY: "This needs a person: I am passing you to an agent now, with priority. "
        "If anyone needs medical help, call a doctor or the emergency number first.",
        ASKED_FOR_PERSON: "Of course: I am passing you to an agent.",
        LOW_CONFIDENCE: "I am not sure I have the right answer: I am passing you to an agent.",
        UNANSWERED: "I am passing you to an agent.",
        "waiting": "Every agent is busy just now: stay here and the first one free will take your chat.",
        "resolved": "Glad that helped. Ask me anything else, or close this window.",
    },
    "fr": {
        "stores_away": "Je ne peux pas chercher les magasins pour le moment : redemandez-moi dans un instant, "
        "ou parlez à un conseiller.",
        "source": "D'après notre article : {title}",
        "other_language": "(Cet article est en {language} : nous n'en avons pas encore dans votre langue.)",
        "postcode": "Donnez-moi votre code postal et je vous indiquerai les magasins les plus proches "
        "qui l'ont en stock.",
        "stores": "Les magasins les plus proches qui l'ont en stock, depuis {postcode} :",
        "no_stores": "Aucun magasin près de {postcode} ne l'a en stock en ce moment ; notre boutique en "
        "ligne l'a.",
        "no_place": "Je ne trouve pas le code postal {postcode}. Vérifiez-le, ou posez-moi une autre "
        "question.",
        SAFETY: "Cela demande une personne : je vous passe tout de suite à un conseiller, en priorité. "
        "Si quelqu'un a besoin de soins, appelez d'abord un médecin ou les urgences.",
        ASKED_FOR_PERSON: "Bien sûr : je vous passe à un conseiller.",
        LOW_CONFIDENCE: "Je ne suis pas sûr d'avoir la bonne réponse : je vous passe à un conseiller.",
        UNANSWERED: "Je vous passe à un conseiller.",
        "waiting": "Tous nos conseillers sont occupés : restez ici, le premier libre prendra votre "
        "conversation.",
        "resolved": "Ravi d'avoir pu aider. Posez-moi une autre question, ou fermez cette fenêtre.",
    },
    "de": {
        "stores_away": "Ich kann gerade keine Geschäfte suchen: fragen Sie gleich noch einmal, oder sprechen "
        "Sie mit einem Mitarbeiter.",
        "source": "Aus unserem Artikel: {title}",
        "other_language": "(Dieser Artikel ist auf {language}: in Ihrer Sprache haben wir noch keinen.)",
        "postcode": "Nennen Sie mir Ihre Postleitzahl, dann nenne ich Ihnen die nächsten Geschäfte, "
        "die es vorrätig haben.",
        "stores": "Die nächsten Geschäfte, die es vorrätig haben, ab {postcode}:",
        "no_stores": "Kein Geschäft bei {postcode} hat es gerade vorrätig; unser Onlineshop schon.",
        "no_place": "Die Postleitzahl {postcode} finde ich nicht. Bitte prüfen Sie sie.",
        SAFETY: "Das braucht einen Menschen: ich verbinde Sie sofort und vorrangig mit einem Mitarbeiter. "
        "Braucht jemand ärztliche Hilfe, rufen Sie zuerst einen Arzt oder den Notruf.",
        ASKED_FOR_PERSON: "Gern: ich verbinde Sie mit einem Mitarbeiter.",
        LOW_CONFIDENCE: "Ich bin nicht sicher, die richtige Antwort zu haben: ich verbinde Sie mit einem "
        "Mitarbeiter.",
        UNANSWERED: "Ich verbinde Sie mit einem Mitarbeiter.",
        "waiting": "Alle Mitarbeiter sind gerade beschäftigt: bleiben Sie hier, der erste freie übernimmt.",
        "resolved": "Schön, dass es geholfen hat. Fragen Sie gern weiter, oder schließen Sie das Fenster.",
    },
    "es": {
        "stores_away": "Ahora no puedo buscar tiendas: pregúnteme de nuevo en un momento, o hable con un agente.",
        "source": "De nuestro artículo: {title}",
        "other_language": "(Este artículo está en {language}: aún no tenemos uno en su idioma.)",
        "postcode": "Dígame su código postal y le indicaré las tiendas más cercanas que lo tienen.",
        "stores": "Las tiendas más cercanas que lo tienen, desde {postcode}:",
        "no_stores": "Ninguna tienda cerca de {postcode} lo tiene ahora; nuestra tienda en línea, sí.",
        "no_place": "No encuentro el código postal {postcode}. Compruébelo, por favor.",
        SAFETY: "Esto necesita una persona: le paso ahora mismo con un agente, con prioridad. "
        "Si alguien necesita atención médica, llame primero a un médico o a urgencias.",
        ASKED_FOR_PERSON: "Claro: le paso con un agente.",
        LOW_CONFIDENCE: "No estoy seguro de tener la respuesta correcta: le paso con un agente.",
        UNANSWERED: "Le paso con un agente.",
        "waiting": "Todos los agentes están ocupados: quédese aquí y el primero libre le atenderá.",
        "resolved": "Me alegro de haber ayudado. Pregúnteme otra cosa, o cierre esta ventana.",
    },
}
LANGUAGE_NAMES = {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "ja": "Japanese"}


def say(language: str, key: str, **values: str) -> str:
    """The assistant's words in the consumer's language, English when it has none in theirs."""
    return WORDS.get(language, WORDS["en"])[key].format(**values)


def answer_text(reply: Reply, language: str) -> str:
    """The answer as the consumer reads it and the case keeps it: the article's text, then its title."""
    parts = [reply.answer.strip()]
    if reply.source is not None:
        if reply.source.other_language:
            name = LANGUAGE_NAMES.get(reply.source.language, reply.source.language)
            parts.append(say(language, "other_language", language=name))
        parts.append(say(language, "source", title=reply.source.title))
    return "\n\n".join(parts)


# A store further than this is no answer to "where can I buy it": the online shop is.
NEAR_KM = 80.0


def stores_text(language: str, postcode: str, shops: list[Shop]) -> str:
    shops = [s for s in shops if s.distance_km <= NEAR_KM]
    if not shops:
        return say(language, "no_stores", postcode=postcode)
    rows = [f"• {s.name} ({s.postcode}), {s.distance_km:.1f} km" for s in shops]
    return "\n".join([say(language, "stores", postcode=postcode), *rows])
