"""Saved segments over consumers: a definition is data (a JSON object), validated here, matched by the store.

A definition names the conditions a consumer must meet, all of them together:
- `attributes`: {name: value} the consumer read model holds (e.g. {"tier": "gold"});
- `bought_skus`: consumers who bought any of these products (from fulfillment's order events);
- `contacted_issue_codes`: consumers with a contact under any of these issue codes (the code or below it);
- `regions`, `languages`: any of these;
- `consent`: the purpose the segment is meant for; only consumers who may be written to for it count.

The same rules are applied in `matches` (for the domain and its tests) and compiled to SQL by the store,
so the size shown before sending is the number the campaign will be built from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PURPOSES = ("service", "surveys", "marketing", "recall")
_LISTS = ("bought_skus", "contacted_issue_codes", "regions", "languages")
_KEYS = frozenset((*_LISTS, "attributes", "consent"))
MAX_VALUES = 500


class InvalidSegment(ValueError):
    pass


@dataclass(frozen=True)
class Definition:
    attributes: Mapping[str, str] = field(default_factory=dict)
    bought_skus: tuple[str, ...] = ()
    contacted_issue_codes: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    consent: str = "marketing"

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Definition:
        """A definition from its JSON form; raises InvalidSegment saying what is wrong."""
        if not isinstance(raw, Mapping):
            raise InvalidSegment("a segment definition is a JSON object")
        unknown = set(raw) - _KEYS
        if unknown:
            raise InvalidSegment(f"unknown conditions: {', '.join(sorted(unknown))}")
        lists = {name: _strings(name, raw.get(name, ())) for name in _LISTS}
        attributes = raw.get("attributes", {})
        if not isinstance(attributes, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and k for k, v in attributes.items()
        ):
            raise InvalidSegment("attributes: an object of text names to text values")
        consent = raw.get("consent", "marketing")
        if consent not in PURPOSES:
            raise InvalidSegment(f"consent: one of {', '.join(PURPOSES)}, not {consent!r}")
        return cls(attributes=dict(attributes), consent=consent, **lists)

    def to_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"consent": self.consent}
        if self.attributes:
            shown["attributes"] = dict(self.attributes)
        for name in _LISTS:
            if getattr(self, name):
                shown[name] = list(getattr(self, name))
        return shown


def _strings(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidSegment(f"{name}: a list of text values")
    values = tuple(value)
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise InvalidSegment(f"{name}: every value is non-empty text")
    if len(values) > MAX_VALUES:
        raise InvalidSegment(f"{name}: at most {MAX_VALUES} values")
    return tuple(v.strip() for v in values)


@dataclass(frozen=True)
class Profile:
    """What the segment rules look at for one consumer, from outreach's read models."""

    consumer_id: str
    region: str = ""
    language: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    bought_skus: frozenset[str] = frozenset()
    contacted_issue_codes: frozenset[str] = frozenset()
    consented: frozenset[str] = frozenset()


def under(code: str, parents: Iterable[str]) -> bool:
    """An issue code is under a parent when it is the parent or one of its descendants (dotted codes)."""
    return any(code == p or code.startswith(p + ".") for p in parents)


def matches(definition: Definition, profile: Profile) -> bool:
    d = definition
    return (
        all(profile.attributes.get(k) == v for k, v in d.attributes.items())
        and (not d.bought_skus or bool(profile.bought_skus & set(d.bought_skus)))
        and (
            not d.contacted_issue_codes
            or any(under(c, d.contacted_issue_codes) for c in profile.contacted_issue_codes)
        )
        and (not d.regions or profile.region in d.regions)
        and (not d.languages or profile.language in d.languages)
        and d.consent in profile.consented
    )
