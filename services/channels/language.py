"""The language of a message, by langdetect: its profiles ship inside the package, nothing is downloaded."""

from __future__ import annotations

from langdetect import DetectorFactory, LangDetectException, detect_langs

# langdetect samples at random; a fixed seed gives the same answer for the same text.
DetectorFactory.seed = 0
MIN_PROBABILITY = 0.7


def detect(text: str) -> str:
    """An ISO 639-1 code, or "" when the text is too short or too mixed to say."""
    sample = (text or "").strip()[:2000]
    if len(sample) < 12:
        return ""
    try:
        best = detect_langs(sample)[0]
    except LangDetectException:
        return ""
    if best.prob < MIN_PROBABILITY:
        return ""
    return best.lang.split("-")[0][:2]
