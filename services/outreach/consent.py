"""Consent per consumer, purpose and channel: what may be sent, the defaults, and what a change records.

The defaults follow the legal basis of each purpose (docs/outreach.md, "Purposes and the rules that apply"):
- service messages go under the contract the consumer asked for, and recall notices under product-safety
  law: both are allowed until the consumer refuses them, and a marketing or survey unsubscribe never
  touches them;
- surveys go under legitimate interest with an easy objection: allowed until the consumer objects, and
  every survey carries the one-click unsubscribe;
- marketing needs an opt-in: refused until the consumer grants it.

A change names its source (an agent at the console, the one-click link, an import, the web form), who made
it and when, and is published as `consent_changed`, so why a consumer was or was not written to is on the
record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from services.outreach.segments import PURPOSES

CHANNELS = ("email", "letter")
SOURCES = ("agent", "unsubscribe_link", "import", "web_form")
DEFAULTS: Mapping[str, bool] = {"service": True, "surveys": True, "marketing": False, "recall": True}
EVENT_TYPE = "consent_changed"
# The purposes a campaign kind or a sender asks for, by the words campaigns.py and survey_desk.py use.
_PURPOSE_OF = {"survey": "surveys", **{p: p for p in PURPOSES}}


class InvalidConsent(ValueError):
    """A purpose, channel or source outreach does not know; the message names it."""


def purpose_named(name: str) -> str:
    try:
        return _PURPOSE_OF[name]
    except KeyError:
        raise InvalidConsent(f"purpose: one of {', '.join(PURPOSES)}, not {name!r}") from None


def _one_of(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidConsent(f"{field}: one of {', '.join(allowed)}, not {value!r}")
    return value


@dataclass(frozen=True)
class Change:
    """One consent change, as it is stored and published."""

    consumer_id: str
    purpose: str
    channel: str
    granted: bool
    source: str
    changed_by: str
    changed_at: datetime

    @classmethod
    def of(
        cls,
        consumer_id: str,
        purpose: str,
        channel: str,
        granted: bool,
        *,
        source: str,
        changed_by: str,
        changed_at: datetime,
    ) -> Change:
        if not consumer_id:
            raise InvalidConsent("consumer_id is required")
        return cls(
            consumer_id,
            purpose_named(purpose),
            _one_of("channel", channel, CHANNELS),
            bool(granted),
            _one_of("source", source, SOURCES),
            changed_by,
            changed_at,
        )

    def to_event(self) -> dict[str, object]:
        """The `consent_changed` payload, field for field."""
        return {
            "consumer_id": self.consumer_id,
            "purpose": self.purpose,
            "channel": self.channel,
            "granted": self.granted,
            "source": self.source,
            "changed_by": self.changed_by,
            "changed_at": self.changed_at.isoformat().replace("+00:00", "Z"),
        }


@dataclass(frozen=True)
class Entry:
    """Consent for one purpose and channel as it stands; `source` is "" for a default never changed."""

    purpose: str
    channel: str
    granted: bool
    source: str = ""
    changed_by: str = ""
    changed_at: datetime | None = None


def standing(recorded: Iterable[Entry]) -> list[Entry]:
    """Every purpose and channel, recorded or by default, in the order of PURPOSES and CHANNELS."""
    held = {(e.purpose, e.channel): e for e in recorded}
    return [held.get((p, c), Entry(p, c, DEFAULTS[p])) for p in PURPOSES for c in CHANNELS]


def consented(entries: Iterable[Entry], channel: str = "email") -> frozenset[str]:
    """The purposes a consumer may be written to for on `channel`, in the words campaigns.decide uses."""
    return frozenset(e.purpose for e in standing(entries) if e.channel == channel and e.granted)
