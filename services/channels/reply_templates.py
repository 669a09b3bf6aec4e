"""Reply templates: texts an admin keeps per name and language, offered to the agent in the consumer's.

Plain Python: the store is a port (SQL in reply_templates_store.py, a fake in tests/unit/channels).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

FALLBACK_LANGUAGE = "en"
MAX_BODY = 20000
MAX_NAME = 100
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class InvalidTemplate(ValueError):
    pass


class NoSuchTemplate(LookupError):
    pass


@dataclass(frozen=True)
class Template:
    id: int
    name: str
    language: str
    body: str
    updated_by: str = ""
    updated_at: datetime | None = None


class Store(Protocol):
    async def templates(self) -> list[Template]: ...
    async def save(self, template: Template, *, editor: str) -> Template:
        """Insert (id 0) or update; raises NoSuchTemplate for an unknown id, InvalidTemplate for a name
        already used in that language."""

    async def delete(self, template_id: int) -> bool: ...


def checked(template: Template) -> Template:
    """The template as it is kept (trimmed name, lower-case language), or InvalidTemplate saying why."""
    name, language, body = template.name.strip(), template.language.strip().lower(), template.body.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise InvalidTemplate(f"name: 1 to {MAX_NAME} characters")
    if not _LANGUAGE.match(language):
        raise InvalidTemplate("language: a two- or three-letter code, such as en, fr or es")
    if not 1 <= len(body) <= MAX_BODY:
        raise InvalidTemplate(f"body: 1 to {MAX_BODY} characters")
    return Template(template.id, name, language, body)


def offered(templates: list[Template], language: str) -> list[Template]:
    """What a reply in `language` is offered: each template name once, in that language when it has one,
    else in English; by name."""
    language = (language or FALLBACK_LANGUAGE).lower()
    chosen: dict[str, Template] = {}
    for template in templates:
        if template.language == language or (
            template.language == FALLBACK_LANGUAGE and template.name not in chosen
        ):
            chosen[template.name] = template
    return sorted(chosen.values(), key=lambda t: t.name.lower())


class ReplyTemplates:
    def __init__(self, store: Store):
        self.store = store

    async def listed(self, language: str = "") -> list[Template]:
        every = await self.store.templates()
        if not language:
            return sorted(every, key=lambda t: (t.name.lower(), t.language))
        return offered(every, language)

    async def save(self, template: Template, *, editor: str) -> Template:
        return await self.store.save(checked(template), editor=editor)

    async def delete(self, template_id: int) -> None:
        if not await self.store.delete(template_id):
            raise NoSuchTemplate(f"no template {template_id}")
