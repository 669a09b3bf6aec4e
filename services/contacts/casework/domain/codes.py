"""Code tables as the domain sees them: issue codes (a tree), action codes, statuses, SLA policies.

They are data, managed through the API and `crs codes`; a code is deactivated, never deleted. The book
is read from the store and kept for a few seconds, so intake does not read it on every contact.
"""

from __future__ import annotations

import csv
import io
import re
import time
from dataclasses import dataclass, field

from services.contacts.casework.domain.sla import SlaPolicy
from services.contacts.casework.exceptions import InvalidInput

STAGES = ("new", "in_progress", "awaiting_consumer", "awaiting_fulfillment", "resolved", "closed")
SEVERITIES = ("low", "medium", "high", "critical")
KINDS = ("issue", "action", "status")
SEPARATOR = " \u203a "  # a single guillemet, as in Complaint > Quality
ISSUE_CODE = re.compile(r"^[a-z0-9_]{1,40}(\.[a-z0-9_]{1,40}){0,5}$")
FLAT_CODE = re.compile(r"^[a-z0-9_]{1,40}$")
CSV_COLUMNS = {
    "issue": ["code", "label", "severity", "auto_escalate", "active", "position"],
    "action": ["code", "label", "is_response", "active", "position"],
    "status": ["code", "label", "stage", "active", "position"],
}


def severity_rank(severity: str | None) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


@dataclass
class CodeBook:
    issues: dict[str, dict] = field(default_factory=dict)
    actions: dict[str, dict] = field(default_factory=dict)
    statuses: dict[str, dict] = field(default_factory=dict)
    policies: list[SlaPolicy] = field(default_factory=list)

    def issue(self, code: str, *, for_new: bool = True) -> dict:
        found = self.issues.get(code)
        if found is None:
            raise InvalidInput(f"issue_code: {code[:80]!r} is not an issue code")
        if for_new and not found["active"]:
            raise InvalidInput(f"issue_code: {code!r} is no longer in use; pick a current code")
        return found

    def action(self, code: str) -> dict:
        found = self.actions.get(code)
        if found is None or not found["active"]:
            raise InvalidInput(f"action_code: {code[:80]!r} is not an action code in use")
        return found

    def status(self, code: str) -> dict:
        found = self.statuses.get(code)
        if found is None or not found["active"]:
            raise InvalidInput(f"status: {code[:80]!r} is not a status in use")
        return found

    def stage_of(self, status: str) -> str:
        found = self.statuses.get(status)
        return found["stage"] if found else "new"

    def path(self, code: str | None) -> str:
        """complaint.quality.foreign_object -> Complaint > Quality > Foreign object (with a guillemet)."""
        if not code:
            return ""
        parts = code.split(".")
        labels = []
        for depth in range(1, len(parts) + 1):
            node = self.issues.get(".".join(parts[:depth]))
            labels.append(node["label"] if node else parts[depth - 1])
        return SEPARATOR.join(labels)

    def escalates(self, code: str) -> bool:
        """A code escalates when it or any code above it says so: illness and injury, all the way down."""
        parts = code.split(".")
        return any(
            self.issues.get(".".join(parts[:depth]), {}).get("auto_escalate")
            for depth in range(1, len(parts) + 1)
        )

    def policy_for(self, issue_code: str, severity: str) -> SlaPolicy | None:
        matching = [p for p in self.policies if p.applies_to(issue_code, severity)]
        return max(matching, key=lambda p: p.specificity) if matching else None


class CachedCodeBook:
    """The code book, reread from the store at most every `ttl` seconds, and at once after a change here."""

    def __init__(self, load, ttl: float = 10.0):
        self._load = load
        self.ttl = ttl
        self._book: CodeBook | None = None
        self._loaded_at = 0.0

    async def get(self) -> CodeBook:
        if self._book is None or time.monotonic() - self._loaded_at > self.ttl:
            self._book = await self._load()
            self._loaded_at = time.monotonic()
        return self._book

    def invalidate(self) -> None:
        self._book = None


def _flag(value, name: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "y", "t"):
        return True
    if text in ("false", "no", "0", "n", "f"):
        return False
    raise InvalidInput(f"{name}: {str(value)[:20]!r} is not true or false")


def clean_code(kind: str, row: dict) -> dict:
    """One code table row, checked; raises InvalidInput naming the field."""
    if kind not in KINDS:
        raise InvalidInput(f"kind: one of {', '.join(KINDS)}")
    if not isinstance(row, dict):
        raise InvalidInput("a code is an object with code and label")
    code = str(row.get("code") or "").strip().lower()
    pattern = ISSUE_CODE if kind == "issue" else FLAT_CODE
    if not pattern.match(code):
        shape = (
            "dotted lower-case words, e.g. complaint.quality.texture"
            if kind == "issue"
            else "a lower-case word"
        )
        raise InvalidInput(f"code: {code[:60]!r} is not a code ({shape})")
    label = " ".join(str(row.get("label") or "").split())
    if not 1 <= len(label) <= 120:
        raise InvalidInput("label: 1 to 120 characters")
    try:
        position = int(row.get("position") or 0)
    except (TypeError, ValueError):
        raise InvalidInput("position: a whole number") from None
    if not -1_000_000 <= position <= 1_000_000:
        raise InvalidInput("position: between -1000000 and 1000000")
    cleaned = {
        "code": code,
        "label": label,
        "active": _flag(row.get("active"), "active", True),
        "position": position,
    }
    if kind == "issue":
        severity = str(row.get("severity") or "low").strip().lower()
        if severity not in SEVERITIES:
            raise InvalidInput(f"severity: one of {', '.join(SEVERITIES)}")
        cleaned.update(
            severity=severity,
            auto_escalate=_flag(row.get("auto_escalate"), "auto_escalate", False),
            parent=code.rpartition(".")[0] or None,
        )
    elif kind == "action":
        cleaned["is_response"] = _flag(row.get("is_response"), "is_response", False)
    else:
        stage = str(row.get("stage") or "").strip().lower()
        if stage not in STAGES:
            raise InvalidInput(f"stage: one of {', '.join(STAGES)}")
        cleaned["stage"] = stage
    return cleaned


def read_csv(kind: str, text: str) -> list[dict]:
    """Rows of a code CSV (header row first), checked; errors name the line."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "code" not in reader.fieldnames or "label" not in reader.fieldnames:
        raise InvalidInput(f"the first line must name the columns: {','.join(CSV_COLUMNS[kind])}")
    rows, seen = [], set()
    for line, row in enumerate(reader, start=2):
        try:
            cleaned = clean_code(kind, row)
        except InvalidInput as exc:
            raise InvalidInput(f"line {line}: {exc}") from None
        if cleaned["code"] in seen:
            raise InvalidInput(f"line {line}: code {cleaned['code']!r} appears twice")
        seen.add(cleaned["code"])
        rows.append(cleaned)
    if kind == "issue":
        # Parents first, so a whole new branch can come in one file.
        rows.sort(key=lambda r: r["code"].count("."))
    return rows


def write_csv(kind: str, rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS[kind], extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (str(v).lower() if isinstance(v, bool) else v) for k, v in row.items()})
    return out.getvalue()
