"""Standard paragraphs: a library of named paragraphs, each written once per language by an admin, that
letter templates name instead of repeating their words. Plain Python: no SQL, no protobuf.

A template names one by an entry of exactly `{{paragraph:NAME}}` among its paragraphs, so the existing
text[] column holds both kinds and a template with none keeps working unchanged. The name is resolved when
the letter is rendered, in the letter's language (English when the library has no text in it): editing a
library paragraph changes every letter rendered afterwards. A template naming a paragraph the library does
not hold is refused on save, and a paragraph a template in use still names cannot be retired; a retired
paragraph keeps its text, so a retired template's queued letters still print.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from services.fulfillment import letter_templates
from services.fulfillment.replies import InvalidRequest

REFERENCE = re.compile(r"^\{\{\s*paragraph:([a-z0-9][a-z0-9_-]{0,63})\s*\}\}$")
FALLBACK = "en"

# The library as render time reads it: paragraph name -> language -> text.
Library = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class StandardParagraph:
    name: str
    language: str
    text: str
    retired: bool = False
    updated_by: str = ""
    updated_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.language)


def reference(name: str) -> str:
    """The template entry that names this paragraph."""
    return "{{paragraph:" + name + "}}"


def named(entry: str) -> str | None:
    """The library paragraph a template entry names, or None when the entry is its own text."""
    found = REFERENCE.match(entry.strip())
    return found.group(1) if found else None


def names_in(paragraphs: Iterable[str]) -> list[str]:
    """The library paragraphs a template names, each once, in order of first use."""
    return list(dict.fromkeys(name for name in map(named, paragraphs) if name))


def validate(paragraph: StandardParagraph) -> StandardParagraph:
    return StandardParagraph(
        name=letter_templates.validate_name(paragraph.name),
        language=letter_templates.validate_language(paragraph.language),
        text=letter_templates._text("text", paragraph.text, letter_templates.MAX_PARAGRAPH),
    )


def _text_in(library: Library, name: str, language: str) -> str | None:
    texts = library.get(name, {})
    return texts.get(language) or texts.get(FALLBACK)


def check_known(paragraphs: Iterable[str], language: str, library: Library) -> None:
    """Refuse a template naming a paragraph the library has no text for in its language (nor English)."""
    for number, entry in enumerate(paragraphs, start=1):
        name = named(entry)
        if name is not None and _text_in(library, name, language) is None:
            raise InvalidRequest(
                f"paragraph {number}: there is no standard paragraph {name!r} in the library"
                f" in {language} or {FALLBACK}; add it on the standard paragraphs page first"
            )


def compose(paragraphs: Iterable[str], language: str, library: Library) -> tuple[str, ...]:
    """The template's paragraphs with each named one replaced by its library text in `language`."""
    composed = []
    for entry in paragraphs:
        name = named(entry)
        if name is None:
            composed.append(entry)
            continue
        text = _text_in(library, name, language)
        if text is None:
            raise InvalidRequest(
                f"the letter names standard paragraph {name!r}, which has no text in {language}"
            )
        composed.append(text)
    return tuple(composed)


def check_retirable(name: str, templates_naming_it: Iterable[tuple[str, str]]) -> None:
    """A paragraph still named by a template in use is not retired: its letters would lose a paragraph."""
    users = sorted({f"{template} ({language})" for template, language in templates_naming_it})
    if users:
        raise InvalidRequest(
            f"standard paragraph {name!r} is still named by {', '.join(users)};"
            " remove it from those templates before retiring it"
        )
