"""Letter templates as data an admin edits: a standard letter per name and language (subject, greeting,
standard paragraphs, closing), retired rather than deleted so the letters printed from it keep their
source. Plain Python: no SQL, no protobuf.

The admin's text is never a Jinja template: letters.render passes it to letter.html as autoescaped data, and
the only substitution is `{name}` in the greeting. So validation accepts exactly that placeholder there and
refuses any other brace, which would otherwise be printed to the consumer as typed.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime

from services.fulfillment import letters
from services.fulfillment.replies import InvalidRequest

LANGUAGES = tuple(letters.ENCLOSURES)
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
PLACEHOLDER = "{name}"
MAX_LINE = 200
MAX_CLOSING = 500
MAX_PARAGRAPH = 2000
MAX_PARAGRAPHS = 20

# The consumer a preview is addressed to, per language: an address in a country that writes it.
SAMPLE_CONSUMERS = {
    "en": ("Ada Sample", {"country_code": "US", "street_address": "1 Main Street", "city": "Springfield",
                          "country_area": "IL", "postal_code": "62701"}),
    "fr": ("Camille Exemple", {"country_code": "FR", "street_address": "12 rue de la Paix", "city": "Paris",
                               "postal_code": "75002"}),
    "ja": ("見本 花子", {"country_code": "JP", "street_address": "千代田1-1", "city": "千代田区",
                       "country_area": "東京都", "postal_code": "100-0001"}),
}  # fmt: skip


@dataclass(frozen=True)
class LetterTemplate:
    name: str
    language: str
    subject: str
    greeting: str
    paragraphs: tuple[str, ...]
    closing: str
    retired: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.language)

    def text(self) -> dict:
        """What an audit row keeps of it: its words, not its state."""
        values = asdict(self)
        values["paragraphs"] = list(self.paragraphs)
        for key in ("name", "language", "retired"):
            del values[key]
        return values


@dataclass(frozen=True)
class TemplateChange:
    key: tuple[str, str]
    changed_by: str
    changed_at: datetime
    before: dict | None
    after: dict | None


def validate_name(name: str) -> str:
    name = name.strip()
    if not NAME.match(name):
        raise InvalidRequest("name: lower-case letters, digits, _ and -, up to 64")
    return name


def validate_language(language: str) -> str:
    language = language.strip().lower()
    if language not in LANGUAGES:
        raise InvalidRequest(
            f"language: one of {', '.join(LANGUAGES)} (the languages letters are printed in)"
        )
    return language


def _braces(field: str, text: str, allowed: tuple[str, ...]) -> None:
    rest = text
    for placeholder in allowed:
        rest = rest.replace(placeholder, "")
    if "{" in rest or "}" in rest:
        found = re.search(r"\{[^{}]*\}", rest)
        shown = found.group(0)[:40] if found else "a stray brace"
        where = f"only {', '.join(allowed)} is filled in here" if allowed else "nothing is filled in here"
        raise InvalidRequest(f"{field}: {shown} is not a placeholder letters know ({where})")


def _text(field: str, text: str, limit: int, allowed: tuple[str, ...] = ()) -> str:
    text = text.strip()
    if not text:
        raise InvalidRequest(f"{field}: empty")
    if len(text) > limit:
        raise InvalidRequest(f"{field}: at most {limit} characters")
    _braces(field, text, allowed)
    return text


def _paragraph(number: int, entry: str) -> str:
    """A paragraph's own text, or an entry naming a library paragraph (kept in its one spelling)."""
    from services.fulfillment import standard_paragraphs  # it builds on this module's field rules

    name = standard_paragraphs.named(entry)
    if name is not None:
        return standard_paragraphs.reference(name)
    return _text(f"paragraph {number}", entry, MAX_PARAGRAPH)


def validate(template: LetterTemplate) -> LetterTemplate:
    paragraphs = tuple(p for p in (p.strip() for p in template.paragraphs) if p)
    if not paragraphs:
        raise InvalidRequest("paragraphs: at least one standard paragraph")
    if len(paragraphs) > MAX_PARAGRAPHS:
        raise InvalidRequest(f"paragraphs: at most {MAX_PARAGRAPHS}")
    return LetterTemplate(
        name=validate_name(template.name),
        language=validate_language(template.language),
        subject=_text("subject", template.subject, MAX_LINE),
        greeting=_text("greeting", template.greeting, MAX_LINE, (PLACEHOLDER,)),
        paragraphs=tuple(_paragraph(n, p) for n, p in enumerate(paragraphs, start=1)),
        closing=_text("closing", template.closing, MAX_CLOSING),
    )


def offered(templates: list[LetterTemplate]) -> list[str]:
    """The names a new letter may choose: those not retired, each once."""
    return sorted({t.name for t in templates if not t.retired})


def preview(template: LetterTemplate, *, on: date, library=None) -> bytes:
    """The template rendered as the worker renders a letter, to the sample consumer of its language, its
    named standard paragraphs taken from `library` (name -> language -> text) as it is now."""
    from services.fulfillment import standard_paragraphs

    name, address = SAMPLE_CONSUMERS[template.language]
    composed = standard_paragraphs.compose(template.paragraphs, template.language, library or {})
    return letters.render(
        letters.StandardLetter(template.subject, template.greeting, composed, template.closing),
        language=template.language,
        name=name,
        address=address,
        enclosures=[],
        on=on,
    )
