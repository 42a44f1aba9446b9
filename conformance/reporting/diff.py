"""Comparing two runs (`phase2-conformance diff OLD NEW`): what broke, what got fixed, what went quiet.

Works on two `summary.json` files (or the report dirs holding them) and reads like a change list:
each requirement that changed is listed once, in the section of its most important change, with
the operations where it changed on the same line; counts are of requirements. A requirement
regressed when it fails where it did not (as a whole or on one more operation), or passed and is
now skipped (as a whole or on an operation) or not applicable; a verdict that went from pass to
anything else is a regression of the run.

Two runs made differently (another profile, seed, target or contract) are still compared, with a
warning first: a change may then come from how the runs were made, not from the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import local_files
from conformance.local_files import SUMMARY
from conformance.reporting.markdown import inline
from conformance.reporting.terminal import escape_line

PASSED, FAILED, WAIVED = "passed", "failed", "waived"
QUIET = ("skipped", "not-applicable")


@dataclass(frozen=True)
class Change:
    requirement_id: str
    operation: str | None  # None: the requirement as a whole
    old: str | None  # None: absent from the old run
    new: str | None

    @property
    def subject(self) -> str:
        return self.requirement_id if self.operation is None else f"{self.requirement_id} on {self.operation}"

    @property
    def regression(self) -> bool:
        if self.new == FAILED:
            return self.old != FAILED
        return self.old == PASSED and (self.new == "skipped" or (self.operation is None and self.new in QUIET))


@dataclass(frozen=True)
class RequirementChange:
    """One requirement that changed: its status as a whole, and where on its operations it changed."""

    requirement_id: str
    old: str | None
    new: str | None
    operations: tuple[Change, ...]  # per operation, changed or still failing

    @property
    def regressed(self) -> bool:
        return Change(self.requirement_id, None, self.old, self.new).regression or any(
            c.regression for c in self.operations
        )

    @property
    def section(self) -> str:
        """The section of its most important change (each requirement is listed in one)."""
        if any(c.new == FAILED and c.old != FAILED for c in (self.whole, *self.operations)):
            return "new_failures"
        if self.old == FAILED and self.new == FAILED:
            return "still_failing"
        if self.regressed or (self.new in QUIET and self.old is not None and self.old not in QUIET):
            return "newly_skipped"
        if self.old in (FAILED, WAIVED) and self.new == PASSED:
            return "fixed"
        return "other"

    @property
    def whole(self) -> Change:
        return Change(self.requirement_id, None, self.old, self.new)

    def where(self) -> str:
        """Where on its operations it changed: `on A, B; newly failing on C; fixed on D`."""
        groups: dict[str, list[str]] = {}
        for change in self.operations:
            # The same move as the whole requirement's needs no second "passed -> skipped".
            same = (change.old, change.new) == (self.old, self.new) and change.new != FAILED
            groups.setdefault("on" if same else _operation_change(change), []).append(change.operation or "")
        return "; ".join(f"{what} {', '.join(operations)}" for what, operations in groups.items())

    def describe(self) -> str:
        """`P2-CON-003: failed -> failed; newly failing on GET /engine; fixed on GET /worlds`."""
        line = f"{self.requirement_id}: {self.old or '(absent)'} -> {self.new or '(absent)'}"
        where = self.where()
        if not where:
            return line
        return f"{line} {where}" if where.startswith("on ") else f"{line}; {where}"


def _operation_change(change: Change) -> str:
    if change.new == FAILED:
        return "still failing on" if change.old == FAILED else "newly failing on"
    if change.old in (FAILED, WAIVED) and change.new in (PASSED, None):
        return "fixed on"  # None: the requirement passed and judged nothing more on it
    if change.new is None:
        return "no longer judged on"
    if change.old is None:
        return f"newly {change.new} on"
    return f"{change.old} -> {change.new} on"


@dataclass
class RunDiff:
    old: dict[str, Any]
    new: dict[str, Any]
    changes: list[RequirementChange] = field(default_factory=list)

    def section(self, name: str) -> list[RequirementChange]:
        return [c for c in self.changes if c.section == name]

    @property
    def regressed_requirements(self) -> list[str]:
        return [c.requirement_id for c in self.changes if c.regressed]

    @property
    def verdict_regressed(self) -> bool:
        return self.old.get("verdict") == "pass" and self.new.get("verdict") != "pass"

    @property
    def regressed(self) -> bool:
        return bool(self.regressed_requirements) or self.verdict_regressed

    @property
    def warnings(self) -> list[str]:
        """How the two runs were made differently, each as `profile (quick -> standard)`."""
        found = []
        for name, read in IDENTITY.items():
            before, after = read(self.old), read(self.new)
            if before != after:
                found.append(f"{name} ({before or '(none)'} -> {after or '(none)'})")
        return found

    @property
    def headline(self) -> str:
        if not self.regressed:
            return "no regression"
        ids = self.regressed_requirements
        parts = []
        if ids:
            noun = "requirement" if len(ids) == 1 else "requirements"
            parts.append(f"{len(ids)} {noun} regressed ({', '.join(ids)})")
        if self.verdict_regressed:
            parts.append(f"verdict went from pass to {self.new.get('verdict')}")
        return "REGRESSED: " + "; ".join(parts)


def _field(*path: str) -> Any:
    def read(summary: dict[str, Any]) -> str:
        value: Any = summary
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return "" if value is None else str(value)

    return read


# What makes two runs comparable: a difference here is warned about before the changes.
def _target(summary: dict[str, Any]) -> str:
    """The target; the embedded reference is one target whatever port it was given."""
    if _field("target", "reference")(summary) == "True":
        return "the embedded reference"
    return str(_field("target", "base_url")(summary))


IDENTITY = {
    "profile": _field("profile"),
    "seed": _field("seed"),
    "target": _target,
    "contract": _field("contract", "sha256"),
}


def load_summary(path: Path, label: str = "") -> dict[str, Any]:
    """A summary.json, given as the file or the report dir holding it, read through the one door for
    local files and validated against its published schema; `ConfigError` (one line) if it is not one."""
    if path.is_dir():
        summary: dict[str, Any] = local_files.read_json_inside(path, "summary.json", SUMMARY, label)
    else:
        summary = local_files.read_json_named(path, SUMMARY, label)
    return summary


def _pairs(summary: dict[str, Any]) -> dict[tuple[str, str | None], str]:
    statuses: dict[tuple[str, str | None], str] = {
        (rid, None): str(entry["status"]) for rid, entry in summary["requirements"].items()
    }
    for operation in summary.get("operations", {}).values():
        label = str(operation.get("label", ""))
        for rid, status in (operation.get("requirements") or {}).items():
            statuses[(rid, label)] = str(status)
    return statuses


def diff_summaries(old: dict[str, Any], new: dict[str, Any]) -> RunDiff:
    result = RunDiff(old, new)
    before, after = _pairs(old), _pairs(new)
    requirement_ids = sorted({rid for rid, _ in before} | {rid for rid, _ in after})
    labels: dict[str, list[str]] = {}
    for rid, label in sorted(set(before) | set(after), key=lambda k: (k[0], k[1] or "")):
        if label is not None:
            labels.setdefault(rid, []).append(label)
    for rid in requirement_ids:
        old_status, new_status = before.get((rid, None)), after.get((rid, None))
        operations = tuple(
            change
            for label in labels.get(rid, [])
            if (change := Change(rid, label, before.get((rid, label)), after.get((rid, label)))).old != change.new
            or change.new == FAILED
        )
        changed = old_status != new_status or any(c.old != c.new for c in operations)
        if changed or new_status == FAILED:
            result.changes.append(RequirementChange(rid, old_status, new_status, operations))
    return result


SECTIONS = (
    ("new_failures", "New failures"),
    ("fixed", "Fixed"),
    ("still_failing", "Still failing"),
    ("newly_skipped", "Newly skipped"),
    ("other", "Other changes"),
)


def _title(summary: dict[str, Any]) -> str:
    return f"{summary.get('run_id', '?')} ({summary.get('verdict', '?')})"


def _warning(diff: RunDiff) -> str | None:
    if not diff.warnings:
        return None
    return (
        f"warning: the runs differ in {', '.join(diff.warnings)}: "
        "a change may come from how the runs were made, not from the target"
    )


def render_text(diff: RunDiff) -> str:
    lines = [f"{_title(diff.old)} -> {_title(diff.new)}", diff.headline]
    warning = _warning(diff)
    if warning:
        lines.append(warning)
    for attribute, heading in SECTIONS:
        changes = diff.section(attribute)
        if not changes:
            continue
        noun = "requirement" if len(changes) == 1 else "requirements"
        lines += ["", f"{heading}: {len(changes)} {noun}"]
        lines += [f"  {change.describe()}" for change in changes]
    # Ids, labels and statuses come from files given on the command line: shown, never executed.
    return "\n".join(escape_line(line) for line in lines) + "\n"


def render_markdown(diff: RunDiff) -> str:
    verdict = "❌ regressed" if diff.regressed else "✅ no regression"
    lines = [
        f"## Phase 2 conformance diff: {verdict}",
        "",
        f"{inline(_title(diff.old))} → {inline(_title(diff.new))} · {inline(diff.headline)}",
    ]
    warning = _warning(diff)
    if warning:
        lines += ["", f"> ⚠️ {inline(warning, 1000)}"]
    for attribute, heading in SECTIONS:
        changes = diff.section(attribute)
        if not changes:
            continue
        lines += ["", f"### {heading} ({len(changes)})", "", "| requirement | before | after | operations |"]
        lines.append("| --- | --- | --- | --- |")
        for change in changes:
            where = change.where()
            lines.append(
                f"| {inline(change.requirement_id)} | {inline(change.old or '(absent)')} | "
                f"{inline(change.new or '(absent)')} | {inline(where, 2000)} |"
            )
    return "\n".join(lines) + "\n"
