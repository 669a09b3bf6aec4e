"""When an automated answer must give way to a person: safety at once, a request for a person, low confidence.

The safety words are deliberately broad: a false hand-off costs an agent a minute, a missed one can cost a
consumer's health. They cover the demo languages; matching is on accent-folded, lower-cased text.
An allergy or an allergic reaction hands off; a question about the allergens a product contains
(allergen, allergène, Allergene, alérgeno, アレルゲン) is a basic question the ingredients article answers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SAFETY = "safety"
ASKED_FOR_PERSON = "asked_for_person"
LOW_CONFIDENCE = "low_confidence"

_SAFETY_WORDS = {
    "en": r"sick|\bill\b|illness|vomit|threw up|throw up|diarrh|nause|poison|hospital|doctor|a&e|"
    r"injur|hurt|cut (my|his|her)|bleed|blood|burn|chok|allerg(?!en)|anaphyla|rash|hives|swell|epipen|"
    r"reaction|foreign|plastic|glass|metal|wire|screw|bone|insect|bug|worm|maggot|hair in|stone in|"
    r"something in (it|my|the)|piece of|shard|splinter|stomach ache|food poisoning",
    "fr": r"malade|vomi|diarrh|nausee|intoxi|empoison|hopital|medecin|urgence|blesse|coupe|saign|brul|"
    r"etouff|allerg(?!en)|reaction|urticaire|gonfl|plastique|verre|metal|morceau|corps etranger|insecte|"
    # "vers" alone is also "towards" and "around" ("vers midi", "vers le magasin"): a worm is a "ver(s)"
    # counted by an article, a number or a quantity ("un ver", "deux vers", "plein de vers"), or one that
    # is somewhere or of a sort ("vers dans", "vers blancs", "ver de farine").
    r"\b(un|des|les|du|ces|petits?|gros|deux|trois|quelques|plusieurs|de) vers?\b|"
    r"\bvers? (dans|blancs?|de farine|de terre)\b|asticot|cheveu|poil|caillou|mal au ventre",
    "de": r"krank|ubel|erbroch|erbrech|durchfall|vergift|krankenhaus|arzt|notaufnahme|verletz|"
    r"geschnitten|blut|verbrann|erstick|allerg(?!en)|reaktion|ausschlag|geschwoll|plastik|kunststoff|glas|metall|"
    r"splitter|fremdkorper|insekt|kafer|wurm|haar|stein|bauchschmerz",
    "es": r"enferm|vomit|diarrea|nausea|intoxica|envenen|hospital|medico|urgencia|herid|lastim|cort|"
    r"sangr|quem|ahog|alergi|reaccion|sarpullido|hinch|plastico|vidrio|cristal|metal|trozo|"
    r"cuerpo extrano|insecto|bicho|gusano|pelo|piedra|dolor de (estomago|barriga)",
    "ja": r"具合|気分が悪|吐|嘔吐|下痢|腹痛|病院|医者|救急|けが|怪我|切っ|出血|やけど|窒息|"
    r"アレルギー|発疹|じんましん|腫れ|異物|プラスチック|ガラス|金属|破片|虫|髪の毛|石",
}
_PERSON_WORDS = {
    "en": r"\b(human|person|agent|someone|somebody|operator|representative|real people)\b|talk to|speak to|"
    r"call me",
    "fr": r"conseiller|humain|une personne|quelqu.un|operateur|parler a|appelez.moi|rappelez",
    "de": r"mitarbeiter|mensch|berater|jemand|sprechen|ruckruf|rufen sie mich",
    "es": r"agente|humano|una persona|alguien|operador|hablar con|llamenme|llamadme",
    "ja": r"担当者|オペレーター|人と話|人間|電話して|折り返し",
}


def _compile(words: dict[str, str]) -> re.Pattern:
    # The patterns are folded like the text, so that a kana's voicing mark is dropped on both sides.
    return re.compile(fold("|".join(f"(?:{p})" for p in words.values())))


def fold(text: str) -> str:
    """Lower-case without accents (é → e, ü → u), keeping CJK characters as they are."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_SAFETY = _compile(_SAFETY_WORDS)
_PERSON = _compile(_PERSON_WORDS)


@dataclass(frozen=True)
class Decision:
    hand_off: bool
    reason: str = ""


def decide(question: str, *, confidence: float, threshold: float) -> Decision:
    """Safety first, whatever the confidence; then the consumer's wish; then the threshold."""
    folded = fold(question)
    if _SAFETY.search(folded):
        return Decision(True, SAFETY)
    if _PERSON.search(folded):
        return Decision(True, ASKED_FOR_PERSON)
    if confidence < threshold:
        return Decision(True, LOW_CONFIDENCE)
    return Decision(False)
