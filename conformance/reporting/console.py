"""The console: progress while the run goes, and a verdict table at the end."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any, TextIO

from conformance.client.reproduction import token_hint
from conformance.contract.catalog import CLASSES
from conformance.reporting.terminal import escape_line
from conformance.results import Failure, RunResult, Status

PROG = "phase2-conformance"

SYMBOL = {"passed": "ok", "failed": "FAIL", "skipped": "skip", "error": "ERROR"}


class ConsoleProgress:
    """A pytest plugin printing one line per finished item (the CLI's replacement for pytest's output)."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.quiet = quiet
        self.done = 0

    def pytest_collection_finish(self, session: Any) -> None:
        self.total = len(session.items)
        if not self.quiet:
            self.stream.write(f"collected {self.total} tests\n")

    def pytest_runtest_logreport(self, report: Any) -> None:
        if self.quiet or not (report.when == "call" or (report.when == "setup" and not report.passed)):
            return
        self.done += 1
        outcome = "error" if report.when == "setup" and report.failed else report.outcome
        properties = dict(report.user_properties)
        name = str(properties.get("phase2_test_id", report.nodeid)).split("::")[-1]
        symbol = SYMBOL.get(outcome, outcome)
        left = properties.get("phase2_time_left")
        budget = f", {left:.0f}s of the budget left" if isinstance(left, int | float) else ""
        line = f"  [{self.done:>3}/{self.total}] {symbol:<5} {name} ({report.duration:.1f}s{budget})"
        self.stream.write(escape_line(line) + "\n")
        self.stream.flush()


def render_summary(result: RunResult, report_dir: str) -> str:
    lines = ["", f"Phase 2 conformance · {result.target} · profile {result.profile} · seed {result.seed}"]
    by_class: dict[str, Counter[str]] = {cls: Counter() for cls in CLASSES}
    for requirement in result.requirements:
        by_class[requirement.requirement.cls][requirement.status.value] += 1
    statuses = [s.value for s in Status]
    header = f"  {'class':<10}" + "".join(f"{s:>16}" for s in statuses)
    lines += ["", header, "  " + "-" * (len(header) - 2)]
    for cls, counts in by_class.items():
        lines.append(f"  {cls:<10}" + "".join(f"{counts.get(s, 0):>16}" for s in statuses))
    failures = [r for r in result.requirements if r.status in (Status.FAILED, Status.WAIVED)]
    if failures:
        lines += ["", "Failed requirements:"]
        for requirement in failures:
            lines.append(
                f"  {requirement.status.value.upper():<6} {requirement.id} "
                f"{requirement.requirement.level.value:<6} "
                f"{requirement.requirement.statement}"
            )
            for failure in requirement.failures[:3]:
                lines += failure_lines(failure)
    if result.errors:
        lines += ["", "Errors:"] + [f"  - {error}" for error in result.errors[:20]]
    for stale in result.stale_waivers:
        lines.append(f"  waiver for {stale.waiver.requirement_id} is stale: {stale.reason}")
    lines += [
        "",
        f"Verdict: {result.headline} (exit {result.exit_code}) · {result.requests_sent} requests"
        f"{_rate_limited(result)} in "
        f"{result.duration_seconds:.1f}s · reports in {report_dir}",
    ]
    # Titles, reproductions and errors carry the target's own text: shown, never executed.
    return "\n".join(escape_line(line) for line in lines) + "\n"


def failure_lines(failure: Failure) -> list[str]:
    """One failure: what broke and why in one line, its id for `replay`, and the whole reproduction."""
    lines = [f"         - {failure.operation or '(run)'}: {failure.title}: {failure.cause}"]
    if failure.steps:
        steps = f" ({len(failure.steps)} steps)" if len(failure.steps) > 1 else ""
        lines.append(f"           replay{steps}: {PROG} replay {failure.id}")
    if failure.curl:
        # Never cut: a long body is in a file the command names, the token comes from $PHASE2_TOKEN.
        hint = token_hint(failure.steps[-1]) if failure.steps else None
        if hint:
            lines.append(f"           token: {hint}")
        lines.append(f"           reproduce: {failure.curl}")
    return lines


def _rate_limited(result: RunResult) -> str:
    counts = result.rate_limits
    if not counts.answers:
        return ""
    given_up = f", {counts.given_up} given up" if counts.given_up else ""
    return (
        f" ({counts.answers} answered 429, {counts.retries} retried after "
        f"{counts.waited_seconds:.1f}s of Retry-After{given_up})"
    )
