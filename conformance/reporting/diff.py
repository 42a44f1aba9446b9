"""Comparing two runs (`phase2-conformance diff OLD NEW`): what broke, what got fixed, what went quiet.

Works on two `summary.json` files (or the report dirs holding them), per requirement and per
requirement × operation. A regression is a new failure at either level, a requirement (or a
requirement on an operation) that passed and is now skipped, a requirement that passed and is now
not applicable, or a verdict that went from pass to anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.client import bounded
from conformance.errors import ConfigError
from conformance.reporting.markdown import inline
from conformance.reporting.terminal import escape_line

PASSED, FAILED, WAIVED = "passed", "failed", "waived"
# A summary.json is a few MB at most; a bigger file given to `diff` is not one.
MAX_SUMMARY_BYTES = 64 * 1024 * 1024
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


@dataclass
class RunDiff:
    old: dict[str, Any]
    new: dict[str, Any]
    new_failures: list[Change] = field(default_factory=list)
    fixed: list[Change] = field(default_factory=list)
    still_failing: list[Change] = field(default_factory=list)
    newly_skipped: list[Change] = field(default_factory=list)
    other: list[Change] = field(default_factory=list)

    @property
    def regressions(self) -> list[str]:
        found = [f"new failure: {c.subject}" for c in self.new_failures]
        found += [
            f"{c.new} where it passed: {c.subject}"
            for c in self.newly_skipped
            if c.old == PASSED and (c.new == "skipped" or c.operation is None)
        ]
        if self.old.get("verdict") == "pass" and self.new.get("verdict") != "pass":
            found.append(f"verdict went from pass to {self.new.get('verdict')}")
        return found

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)


def load_summary(path: Path) -> dict[str, Any]:
    """A summary.json, given as the file or the report dir holding it; `ConfigError` if it is not one."""
    file = path / "summary.json" if path.is_dir() else path
    try:
        document = bounded.loads(bounded.read_file(file, MAX_SUMMARY_BYTES), max_bytes=MAX_SUMMARY_BYTES)
    except FileNotFoundError:
        raise ConfigError(f"no summary at {file}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"cannot read {file} as a run summary: {' '.join(str(exc).split())[:200]}") from None
    if not is_summary(document):
        raise ConfigError(f"{file} is not a summary.json of a phase2-conformance run")
    summary: dict[str, Any] = document
    return summary


def is_summary(document: Any) -> bool:
    """The shape `diff` and `--rerun-failed` read, checked whole so a crafted file cannot crash them."""

    def statuses(value: Any) -> bool:
        return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())

    return (
        isinstance(document, dict)
        and isinstance(document.get("requirements"), dict)
        and all(
            isinstance(rid, str) and isinstance(r, dict) and isinstance(r.get("status"), str)
            for rid, r in document["requirements"].items()
        )
        and isinstance(document.get("operations", {}), dict)
        and all(
            isinstance(op, dict) and isinstance(op.get("label", ""), str) and statuses(op.get("requirements") or {})
            for op in document.get("operations", {}).values()
        )
        and all(isinstance(document.get(key), str | type(None)) for key in ("verdict", "run_id", "profile"))
    )


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
    for key in sorted(set(before) | set(after), key=lambda k: (k[0], k[1] or "")):
        change = Change(key[0], key[1], before.get(key), after.get(key))
        if change.old == change.new:
            if change.new == FAILED:
                result.still_failing.append(change)
            continue
        if change.new == FAILED:
            result.new_failures.append(change)
        elif change.old in (FAILED, WAIVED) and change.new == PASSED:
            result.fixed.append(change)
        elif change.new in QUIET and change.old is not None and change.old not in QUIET:
            result.newly_skipped.append(change)
        elif change.old is not None and change.new is not None:
            result.other.append(change)
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


def render_text(diff: RunDiff) -> str:
    lines = [f"{_title(diff.old)} -> {_title(diff.new)}"]
    lines.append(f"REGRESSED: {len(diff.regressions)} regression(s)" if diff.regressed else "no regression")
    for attribute, heading in SECTIONS:
        changes: list[Change] = getattr(diff, attribute)
        requirements = [c for c in changes if c.operation is None]
        operations = [c for c in changes if c.operation is not None]
        if not changes:
            continue
        lines += [
            "",
            f"{heading}: {len(requirements)} requirement(s), {len(operations)} requirement x operation",
        ]
        lines += [f"  {c.subject}: {c.old or '(absent)'} -> {c.new or '(absent)'}" for c in requirements]
        lines += [f"    {c.subject}: {c.old or '(absent)'} -> {c.new or '(absent)'}" for c in operations]
    if diff.regressed:
        lines += ["", "Regressions:"] + [f"  - {r}" for r in diff.regressions]
    # Ids, labels and statuses come from files given on the command line: shown, never executed.
    return "\n".join(escape_line(line) for line in lines) + "\n"


def render_markdown(diff: RunDiff) -> str:
    verdict = "❌ regressed" if diff.regressed else "✅ no regression"
    lines = [
        f"## Phase 2 conformance diff: {verdict}",
        "",
        f"{inline(_title(diff.old))} → {inline(_title(diff.new))}",
    ]
    for attribute, heading in SECTIONS:
        changes: list[Change] = getattr(diff, attribute)
        if not changes:
            continue
        lines += ["", f"### {heading} ({len(changes)})", "", "| requirement | operation | before | after |"]
        lines.append("| --- | --- | --- | --- |")
        lines += [
            f"| {inline(c.requirement_id)} | {inline(c.operation or '(whole requirement)')} | "
            f"{inline(c.old or '(absent)')} | {inline(c.new or '(absent)')} |"
            for c in changes
        ]
    if diff.regressed:
        lines += ["", "### Regressions", ""] + [f"- {inline(r)}" for r in diff.regressions]
    return "\n".join(lines) + "\n"
