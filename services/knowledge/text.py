"""Tokens and language guesses shared by the lexical ranker and the code model."""

from __future__ import annotations

import re

from services.knowledge.handoff import fold

_WORD = re.compile(r"[a-z0-9]+|[\u3040-\u30ff\u3400-\u9fff]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_STOP = {
    "en": {
        "the",
        "and",
        "is",
        "of",
        "my",
        "it",
        "in",
        "where",
        "what",
        "can",
        "how",
        "i",
        "to",
        "a",
        "there",
        "was",
    },
    "fr": {
        "le",
        "la",
        "les",
        "et",
        "est",
        "de",
        "du",
        "des",
        "dans",
        "ma",
        "mon",
        "ou",
        "je",
        "il",
        "y",
        "avait",
        "un",
        "une",
        "pour",
        "quels",
        "comment",
    },
    "de": {
        "der",
        "die",
        "das",
        "und",
        "ist",
        "in",
        "ich",
        "wo",
        "ein",
        "eine",
        "mein",
        "meine",
        "war",
        "kann",
        "wie",
        "es",
        "im",
        "mit",
        "nicht",
    },
    "es": {
        "el",
        "la",
        "los",
        "las",
        "y",
        "es",
        "de",
        "en",
        "mi",
        "donde",
        "un",
        "una",
        "habia",
        "que",
        "puedo",
        "como",
        "para",
        "con",
    },
}


def tokens(text: str) -> list[str]:
    """Folded words; runs of Japanese characters become overlapping pairs, since they have no spaces."""
    out: list[str] = []
    for word in _WORD.findall(fold(text)):
        if _CJK.match(word):
            out.extend(word[i : i + 2] for i in range(max(1, len(word) - 1)))
        else:
            out.append(word)
    return out


def guess_language(text: str) -> str:
    if _CJK.search(text):
        return "ja"
    words = set(_WORD.findall(fold(text)))
    counts = {lang: len(words & stop) for lang, stop in _STOP.items()}
    best = max(counts, key=lambda lang: counts[lang])
    return best if counts[best] else "en"
