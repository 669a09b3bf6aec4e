"""SLA policies: how soon a case must be answered and resolved, by issue and severity.

Policies are data (the sla_policy table); the most specific one that fits a case gives its due times, and
the case flags the first one it misses (Case.breach_sla), which the scheduled sweep looks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class SlaPolicy:
    issue_prefix: str
    severity: str | None
    first_response: timedelta
    resolution: timedelta

    def applies_to(self, issue_code: str, severity: str) -> bool:
        prefix_ok = (
            not self.issue_prefix
            or issue_code == self.issue_prefix
            or issue_code.startswith(self.issue_prefix + ".")
        )
        return prefix_ok and (self.severity is None or self.severity == severity)

    @property
    def specificity(self) -> tuple[int, int]:
        # A severity rule beats an issue rule: a critical complaint is due sooner than any complaint.
        return (self.severity is not None, len(self.issue_prefix))
