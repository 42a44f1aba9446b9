"""The console: one live progress line while the run goes, and the run's story at the end.

Rich draws it: colour and a live line on a terminal; plain text when the output is piped or
`NO_COLOR` is set (Rich reads both). The final block leads with what a vendor fixes first (the
failures, each with what was expected and what came back, then the errors grouped by cause), then
the table of counts, and ends on the verdict.

Rich writes its own escape sequences, so it cannot write through the CLI's `GuardedStream` (which
would show them as text): it writes to the stream underneath, and every string it is given passes
the guard's redactor and `escape_line` first (`Screen.clean`). Nothing from the target reaches Rich
unescaped, and Rich's markup, emoji codes and highlighting are off so no text is read as markup.
"""

from __future__ import annotations

import io
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table
from rich.text import Text

from conformance.client.reproduction import token_hint
from conformance.contract.catalog import CLASSES
from conformance.reporting.causes import and_more, expected_vs_actual, group_errors
from conformance.reporting.terminal import GuardedStream, escape_line
from conformance.results import Failure, RequirementResult, RunResult, Status, TestOutcome, Verdict

PROG = "phase2-conformance"

SYMBOL = {"passed": "ok", "failed": "FAIL", "skipped": "skip", "error": "ERROR"}
STYLE = {"passed": "green", "failed": "bold red", "error": "bold yellow", "skipped": "dim", "waived": "magenta"}
VERDICT_STYLE = {
    Verdict.PASS: "bold green",
    Verdict.FAIL: "bold red",
    Verdict.ERROR: "bold yellow",
    Verdict.INTERRUPTED: "bold yellow",
}
FAILURES_SHOWN = 3  # per requirement; the rest are counted, and listed in the file reports
ERROR_GROUPS_SHOWN = 10
PLAIN_WIDTH = 120  # piped output: wide enough for the table, long lines are never wrapped


@dataclass(frozen=True)
class Screen:
    """A Rich console and the function every string passes before it reaches it."""

    console: Console
    clean: Callable[[str], str] = field(default=escape_line)

    def text(self, value: object, style: str = "") -> Text:
        return Text(self.clean(str(value)), style=style)

    def line(self, *parts: tuple[object, str] | str) -> None:
        """One line of styled parts, never wrapped (a reproduction command is copied whole)."""
        text = Text()
        for part in parts:
            value, style = (part, "") if isinstance(part, str) else part
            text.append(self.clean(str(value)), style=style)
        self.console.print(text, soft_wrap=True)


def screen_for(stream: TextIO) -> Screen:
    """A screen writing to `stream`: beneath a `GuardedStream`, with its redactor kept in front."""
    if isinstance(stream, GuardedStream):
        redactor = stream.redactor
        console = _console(stream.stream)
        return Screen(console, lambda value: escape_line(redactor.text(value)))
    return Screen(_console(stream))


def _console(stream: TextIO) -> Console:
    terminal = stream.isatty() if hasattr(stream, "isatty") else False
    return Console(
        file=stream,
        width=None if terminal else PLAIN_WIDTH,
        markup=False,
        emoji=False,
        highlight=False,
        soft_wrap=False,
    )


class ConsoleProgress:
    """Progress of a run: one live line (counts, ETA, budget left) on a terminal, a line per item
    otherwise. The engine feeds it through `runner.cli_run.Progress` (`planned`, `finished`), so
    the engine knows nothing of Rich."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False, screen: Screen | None = None) -> None:
        self.screen = screen or screen_for(stream or sys.stderr)
        self.quiet = quiet
        self.total = 0
        self.done = 0
        self.outcomes: Counter[str] = Counter()
        self.time_left: float | None = None
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._started = time.monotonic()

    @property
    def live(self) -> bool:
        return self.screen.console.is_terminal and not self.screen.console.is_dumb_terminal

    def start(self, total: int) -> None:
        self.total, self.done, self._started = total, 0, time.monotonic()
        if self.quiet:
            return
        if not self.live:
            self.screen.line(f"collected {total} tests")
            return
        self._progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[status]}", markup=False),
            console=self.screen.console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task = self._progress.add_task("phase2-conformance", total=total, status=self.status())
        self._progress.start()

    def item_done(self, name: str, outcome: str, duration: float, time_left: float | None = None) -> None:
        self.done += 1
        self.outcomes[outcome] += 1
        self.time_left = time_left
        if self.quiet:
            return
        if self._progress is not None and self._task is not None:
            if outcome in ("failed", "error"):
                # Above the live line, where it stays: what failed is not transient.
                self.screen.line((f"  {SYMBOL[outcome]:<5} ", STYLE[outcome]), f"{name} ({duration:.1f}s)")
            self._progress.update(self._task, completed=self.done, status=self.status())
            return
        budget = f", {time_left:.0f}s of the budget left" if time_left is not None else ""
        symbol = SYMBOL.get(outcome, outcome)
        self.screen.line(
            f"  [{self.done:>3}/{self.total}] ",
            (f"{symbol:<5}", STYLE.get(outcome, "")),
            f" {name} ({duration:.1f}s{budget})",
        )

    def status(self) -> str:
        """`42/88 · 2 failed · ETA 31s · 95s of the budget left`: counts always whole."""
        parts = [f"{self.done}/{self.total}"]
        parts += [f"{self.outcomes[o]} {o}" for o in ("failed", "error", "skipped") if self.outcomes[o]]
        eta = self.eta()
        if eta is not None:
            parts.append(f"ETA {eta:.0f}s")
        if self.time_left is not None:
            parts.append(f"{self.time_left:.0f}s of the budget left")
        return " · ".join(parts)

    def eta(self) -> float | None:
        """Seconds to the end at the pace so far, never past the budget (the run stops there)."""
        if not self.done or self.done >= self.total:
            return None
        elapsed = time.monotonic() - self._started
        estimate = elapsed / self.done * (self.total - self.done)
        return min(estimate, self.time_left) if self.time_left is not None else estimate

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    # --- `runner.cli_run.Progress` ------------------------------------------------------------
    def planned(self, total: int) -> None:
        self.start(total)

    def finished(self, test: TestOutcome, time_left: float) -> None:
        self.item_done(test.name, test.outcome, test.duration, time_left)


def print_summary(result: RunResult, report_dir: str, screen: Screen) -> None:
    """The run's final block: failures first, errors by cause, the table, the verdict last."""
    screen.console.print()
    screen.line(("Phase 2 conformance", "bold"), f" · {result.target} · profile {result.profile} · seed {result.seed}")
    _failures(result, screen)
    _errors(result, screen)
    screen.console.print()
    screen.console.print(_table(result, screen))
    screen.console.print()
    screen.line(
        (f"Verdict: {result.headline}", VERDICT_STYLE[result.verdict]),
        f" (exit {result.exit_code}) · {result.requests_sent} requests{_rate_limited(result)} in "
        f"{result.duration_seconds:.1f}s · reports in {report_dir}",
    )


def render_summary(result: RunResult, report_dir: str) -> str:
    """The final block as plain text (no colour), every target string escaped."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=PLAIN_WIDTH, color_system=None, markup=False, emoji=False, highlight=False)
    print_summary(result, report_dir, Screen(console))
    return buffer.getvalue()


def _failures(result: RunResult, screen: Screen) -> None:
    shown = [r for r in result.requirements if r.status in (Status.FAILED, Status.WAIVED)]
    if not shown:
        return
    failed = sum(1 for r in shown if r.status is Status.FAILED)
    total = sum(len(r.failures) for r in shown)
    screen.console.print()
    screen.line((f"Failed requirements: {failed}", "bold red" if failed else "bold"), f" ({total} failures recorded)")
    # Failed first, then waived: what breaks the gate before what was accepted.
    for requirement in sorted(shown, key=lambda r: r.status is not Status.FAILED):
        _requirement(requirement, screen)
    for stale in result.stale_waivers:
        screen.line(f"  waiver for {stale.waiver.requirement_id} is stale: {stale.reason}")


def _requirement(requirement: RequirementResult, screen: Screen) -> None:
    status = requirement.status.value
    screen.line(
        (f"  {status.upper():<6} ", STYLE[status]),
        (requirement.id, "bold"),
        f" {requirement.requirement.level.value:<6} {requirement.requirement.statement}",
    )
    for failure in requirement.failures[:FAILURES_SHOWN]:
        first, *rest = failure_lines(failure)
        screen.line((first, STYLE[status]))
        for line in rest:
            screen.line(line)
    more = and_more(min(len(requirement.failures), FAILURES_SHOWN), len(requirement.failures), "report.html")
    if more:
        screen.line(f"         - {more}")


def _errors(result: RunResult, screen: Screen) -> None:
    if not result.errors:
        return
    groups = group_errors(result.errors)
    screen.console.print()
    causes = f"{len(groups)} cause{'s' if len(groups) != 1 else ''}"
    screen.line((f"Errors: {len(result.errors)}", "bold yellow"), f" ({causes})")
    for group in groups[:ERROR_GROUPS_SHOWN]:
        screen.line(("  - ", "yellow"), group.headline)
    more = and_more(min(len(groups), ERROR_GROUPS_SHOWN), len(groups), "summary.md")
    if more:
        screen.line(f"  - {more}")


def _table(result: RunResult, screen: Screen) -> Table:
    statuses = [s.value for s in Status]
    table = Table(box=None, pad_edge=False, padding=(0, 0, 0, 2), show_edge=False)
    table.add_column("class")
    for status in statuses:
        table.add_column(status, justify="right", header_style=STYLE.get(status, "bold"), min_width=8)
    by_class: dict[str, Counter[str]] = {cls: Counter() for cls in CLASSES}
    for requirement in result.requirements:
        by_class.setdefault(requirement.requirement.cls, Counter())[requirement.status.value] += 1
    for cls, counts in by_class.items():
        cells = [
            screen.text(counts.get(s, 0), STYLE.get(s, "") if counts.get(s, 0) and s != "passed" else "")
            for s in statuses
        ]
        table.add_row(screen.text(cls), *cells)
    return table


def failure_lines(failure: Failure) -> list[str]:
    """One failure: what broke and why in one line, its id for `replay`, and the whole reproduction."""
    lines = [f"         - {failure.operation or '(run)'}: {expected_vs_actual(failure)}"]
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
