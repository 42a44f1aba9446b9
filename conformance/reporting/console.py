"""The console: progress while the run goes, and a verdict table at the end."""

from __future__ import annotations

import sys
from collections import Counter
from typing import TextIO

from conformance.contract.catalog import CLASSES
from conformance.reporting.terminal import escape_line
from conformance.results import RunResult, Status, TestOutcome

SYMBOL = {"passed": "ok", "failed": "FAIL", "skipped": "skip", "error": "ERROR"}


class ConsoleProgress:
    """One line per finished item while the run goes (`runner.cli_run.Progress`)."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.quiet = quiet
        self.done = 0
        self.total = 0

    def planned(self, total: int) -> None:
        self.total = total
        if not self.quiet:
            self.stream.write(f"collected {self.total} tests\n")
            self.stream.flush()

    def finished(self, test: TestOutcome, time_left: float) -> None:
        self.done += 1
        if self.quiet:
            return
        symbol = SYMBOL.get(test.outcome, test.outcome)
        line = (
            f"  [{self.done:>3}/{self.total}] {symbol:<5} {test.name} "
            f"({test.duration:.1f}s, {time_left:.0f}s of the budget left)"
        )
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
                lines.append(f"         - {failure.operation or '(run)'}: {failure.title}")
                if failure.curl:
                    lines.append(f"           reproduce: {failure.curl[:400]}")
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


def _rate_limited(result: RunResult) -> str:
    counts = result.rate_limits
    if not counts.answers:
        return ""
    given_up = f", {counts.given_up} given up" if counts.given_up else ""
    return (
        f" ({counts.answers} answered 429, {counts.retries} retried after "
        f"{counts.waited_seconds:.1f}s of Retry-After{given_up})"
    )
