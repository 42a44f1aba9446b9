"""The run's errors grouped by root cause, so a report leads with the cause, not with its echoes.

One missing `ETag` on `getWorld` keeps seven scenarios from running; the recorder keeps one error
per requirement ("P2-SEM-003 (MUST) was not verified: check_merge_patch could not run: read the
world before patching it: getWorld answered without a world and its ETag"). Shown as they are,
seven near-identical lines hide the one fact a vendor needs. Grouped, they read "7 requirements
not verified because getWorld answered without a world and its ETag: P2-SEM-003, ...".

The errors themselves stay as recorded (summary.json keeps each one); this module only decides
how they are shown. Every reporter that lists errors (console, summary.md, report.html) uses it,
and every count it gives is complete: a list cut for the screen says how many it left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from conformance.results import Failure

# "P2-SEM-003 (MUST) was not verified: <reason>", as `runner.outcome.build_result` words it.
NOT_VERIFIED = re.compile(r"^(?P<requirement>\S+) \((?P<level>[A-Z]+)\) was not verified: (?P<reason>.*)$", re.DOTALL)
# A scenario that could not reach its rule names itself first (`runner.scenarios.run_scenario`); the
# step it was at comes next, the cause last: "check_x could not run: <step>: <cause>".
_SCENARIO_BLOCKED = re.compile(r"^(?P<check>check_\w+) could not run: (?:(?P<step>[^:]*): )?(?P<cause>.*)$", re.DOTALL)
_SCENARIO_PREFIX = re.compile(r"^check_\w+: ")
# The budget names the item that could not start; the cause is the budget, whichever item it was.
_BUDGET = re.compile(r" before \S+ could run")


@dataclass(frozen=True)
class ErrorGroup:
    """Errors that share one cause; `requirements` are those it left unverified (may be empty)."""

    cause: str
    requirements: tuple[str, ...]
    errors: tuple[str, ...]

    @property
    def headline(self) -> str:
        """One line: the count, the cause, and every requirement it concerns."""
        if not self.requirements:
            return self.cause if len(self.errors) == 1 else f"{len(self.errors)} errors: {self.cause}"
        count = len(self.requirements)
        noun = "requirement" if count == 1 else "requirements"
        return f"{count} {noun} not verified because {self.cause}: {', '.join(self.requirements)}"


def cause_of(reason: str) -> str:
    """The root cause in a not-verified reason: the scenario's name and step taken off."""
    blocked = _SCENARIO_BLOCKED.match(reason)
    if blocked is not None:
        return blocked.group("cause")
    return _BUDGET.sub("", _SCENARIO_PREFIX.sub("", reason))


def group_errors(errors: tuple[str, ...] | list[str]) -> list[ErrorGroup]:
    """The errors by cause, the largest group first (ties in the order the errors came)."""
    requirements: dict[str, list[str]] = {}
    members: dict[str, list[str]] = {}
    for error in errors:
        match = NOT_VERIFIED.match(error)
        cause = cause_of(match.group("reason")) if match else error
        members.setdefault(cause, []).append(error)
        ids = requirements.setdefault(cause, [])
        if match and match.group("requirement") not in ids:
            ids.append(match.group("requirement"))
    order = {cause: index for index, cause in enumerate(members)}
    groups = [ErrorGroup(cause, tuple(requirements[cause]), tuple(members[cause])) for cause in members]
    return sorted(groups, key=lambda group: (-len(group.errors), order[group.cause]))


def and_more(shown: int, total: int, where: str) -> str | None:
    """The line that says a list was cut, or None when nothing was left out."""
    left = total - shown
    return f"and {left} more in {where}" if left > 0 else None


def expected_vs_actual(failure: Failure) -> str:
    """What the rule expected and what came back, in one line: the title, then the message when it
    adds to the title; `Failure.cause` when the check said what it expected and what came."""
    if failure.actual and failure.expected:
        return f"{failure.title}: {failure.cause}"
    message = " ".join(failure.message.split())
    if not message or message == failure.title:
        return failure.title
    if message.startswith(failure.title):
        return message
    return f"{failure.title}: {message}"
