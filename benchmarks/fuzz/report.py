"""What a fuzz run found: the status histogram, defects and operations hit, and every violation."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_MESSAGES = 20


@dataclass
class Outcome:
    count: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_defect: Counter[str] = field(default_factory=Counter)
    by_operation: Counter[str] = field(default_factory=Counter)
    violations: Counter[str] = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)
    seconds: float = 0.0
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)

    def violation(self, kind: str, message: str) -> None:
        self.violations[kind] += 1
        if len(self.messages) < MAX_MESSAGES:
            self.messages.append(f"{kind}: {message}")

    @property
    def ok(self) -> bool:
        return not self.violations

    def render(self) -> str:
        histogram = "  ".join(f"{status}×{count}" for status, count in sorted(self.statuses.items()))
        lines = [
            f"malformed requests: {self.count} in {self.seconds:.1f} s across {len(self.by_operation)} operations, "
            f"{len(self.by_defect)} kinds of defect",
            f"statuses: {histogram}",
            "defects: " + ", ".join(f"{name} {count}" for name, count in sorted(self.by_defect.items())),
            f"store before: {self.before}",
            f"store after:  {self.after}",
        ]
        if self.violations:
            lines.append(f"VIOLATIONS ({sum(self.violations.values())}): {dict(self.violations)}")
            lines.extend(f"  {message}" for message in self.messages)
        else:
            lines.append("violations: 0 (every answer a 4xx problem+json with the expected status; nothing written)")
        return "\n".join(lines)
