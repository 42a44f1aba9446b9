"""`summary.md`: the run in GitHub-flavoured Markdown, for `$GITHUB_STEP_SUMMARY` and PR comments.

Verdict line, where the run's files are (a link to the CI run's artifacts on GitHub Actions),
failed requirements (operation, expected and actual, the curl reproduction, folded in a details
block), the run's errors grouped by cause, counts by class, waived requirements, stale waivers,
not-applicable requirements with their reasons. Target-controlled text is escaped so it can
neither break the layout nor inject markup; code spans carry their text as it is (a Markdown
escape inside one is shown, not read). `tests/conformance/reporting/test_markdown.py` renders it
with a GitHub-flavoured renderer to hold that.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path

from conformance.contract.catalog import CLASSES
from conformance.reporting import ReportContext, write_atomically
from conformance.reporting.causes import expected_vs_actual, group_errors
from conformance.results import Failure, RunResult, Status, Verdict
from conformance.waivers import describe

FILENAME = "summary.md"
VERDICT_LINE = {
    Verdict.PASS: "✅ PASS — the target conforms",
    Verdict.FAIL: "❌ FAIL — the target does not conform",
    Verdict.ERROR: "⚠️ ERROR — the run could not reach a verdict",
    Verdict.INTERRUPTED: "⏹️ INTERRUPTED — partial results, no verdict",
}


def verdict_line(result: RunResult) -> str:
    """The headline: a pass that left a MUST unverified never reads 'the target conforms'."""
    if result.headline == result.verdict.value.upper():
        return VERDICT_LINE[result.verdict]
    mark = "⚠️" if result.verdict is Verdict.PASS else VERDICT_LINE[result.verdict].split(" ")[0]
    return f"{mark} {inline(result.headline, 2000)}"


COLUMNS = (Status.PASSED, Status.FAILED, Status.WAIVED, Status.SKIPPED, Status.NOT_APPLICABLE)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
MAX_FAILURES_SHOWN = 5


def inline(value: object, limit: int = 300) -> str:
    """Text for a table cell or a line: one line, no markup, no table breaks."""
    text = " ".join(_CONTROL.sub(" ", str(value)).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = html.escape(text, quote=False)
    for char in "\\`*_[]|#~":
        text = text.replace(char, "\\" + char)
    return text


def html_inline(value: object, limit: int = 120) -> str:
    """Text inside an HTML element (where Markdown escapes are not read): one line, HTML-escaped."""
    text = " ".join(_CONTROL.sub(" ", str(value)).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text)


def code_span(value: object, limit: int = 300) -> str:
    """Inline code: its text as is (GFM reads no escape inside a code span), fenced by more
    backticks than any run inside it. Not for table cells, where a `|` would still split the cell."""
    text = " ".join(_CONTROL.sub(" ", str(value)).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def code_block(value: str, language: str = "") -> str:
    """A fenced block longer than any backtick run inside it, so the content cannot close it."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value.replace("\r\n", "\n"))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def _failure_lines(failure: Failure) -> list[str]:
    lines = [f"- **{inline(failure.operation or '(run)')}** — {inline(expected_vs_actual(failure), 600)}"]
    if failure.exchange is not None and failure.exchange.status is not None:
        lines.append(f"  response {failure.exchange.status} (check {code_span(failure.check)})")
    if failure.curl:
        lines += ["", code_block(failure.curl, "sh"), ""]
    return lines


def _some(names: list[str], shown: int = 3) -> str:
    """The first few names, and how many more: a list is never cut without saying so."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _where(artifacts_url: str | None, file: str) -> str:
    """Where the rest is: the CI run's artifacts when known, else the file beside this one."""
    return f"[the run's artifacts]({artifacts_url})" if artifacts_url else file


def render_markdown(result: RunResult, artifacts_url: str | None = None) -> str:
    lines = [
        f"## Phase 2 conformance: {verdict_line(result)}",
        "",
        f"Target {inline(result.target)} · profile **{inline(result.profile)}** · seed {result.seed} · "
        f"fail on {result.fail_on.upper()} · contract `{result.contract_sha256[:12]}` · "
        f"suite {inline(result.suite_version)} · "
        f"{result.requests_sent} requests in {result.duration_seconds:.1f}s · "
        f"exit code {result.exit_code}",
    ]
    if artifacts_url:
        lines += [
            "",
            f"Full reports (report.html, summary.json, junit.xml, Allure results): {_where(artifacts_url, '')}.",
        ]
    lines += _failed(result, artifacts_url)
    lines += _errors(result, artifacts_url)
    lines += [
        "",
        "### Counts by class",
        "",
        "| class | " + " | ".join(s.value for s in COLUMNS) + " |",
        "| --- | " + " | ".join("---:" for _ in COLUMNS) + " |",
    ]
    by_class: dict[str, Counter[Status]] = {}
    for requirement in result.requirements:
        by_class.setdefault(requirement.requirement.cls, Counter())[requirement.status] += 1
    for cls in [c for c in CLASSES if c in by_class] + sorted(set(by_class) - set(CLASSES)):
        lines.append(f"| {cls} | " + " | ".join(str(by_class[cls][s]) for s in COLUMNS) + " |")
    lines.append("| **total** | " + " | ".join(f"**{result.count(s)}**" for s in COLUMNS) + " |")

    waived = [r for r in result.requirements if r.status is Status.WAIVED]
    if waived:
        lines += [
            "",
            f"### Waived ({len(waived)})",
            "",
            "| requirement | operations | waiver |",
            "| --- | --- | --- |",
        ]
        for requirement in waived:
            waived_on = ", ".join(sorted({f.operation or "(run)" for f in requirement.failures}))
            text = describe(requirement.waiver) if requirement.waiver else requirement.reason or ""
            lines.append(f"| {requirement.id} | {inline(waived_on)} | {inline(text)} |")

    if result.stale_waivers:
        lines += [
            "",
            f"### Stale waivers ({len(result.stale_waivers)})",
            "",
            "| requirement | why | waiver |",
        ]
        lines.append("| --- | --- | --- |")
        for stale in result.stale_waivers:
            lines.append(
                f"| {stale.waiver.requirement_id} | {inline(stale.reason)} | {inline(describe(stale.waiver))} |"
            )

    not_applicable = [r for r in result.requirements if r.status is Status.NOT_APPLICABLE]
    if not_applicable:
        lines += [
            "",
            f"### Not applicable ({len(not_applicable)})",
            "",
            "| requirement | reason |",
            "| --- | --- |",
        ]
        for requirement in not_applicable:
            lines.append(f"| {requirement.id} | {inline(requirement.reason or '')} |")

    return "\n".join(lines) + "\n"


def _failed(result: RunResult, artifacts_url: str | None) -> list[str]:
    lines: list[str] = []
    failed = [r for r in result.requirements if r.status is Status.FAILED]
    if failed:
        lines += ["", f"### Failed requirements ({len(failed)})", ""]
        for requirement in failed:
            operations = sorted({f.operation or "(run)" for f in requirement.failures})
            lines += [
                "<details>",
                f"<summary><b>{html.escape(requirement.id)}</b> {requirement.requirement.level.value} · "
                f"{html_inline(_some(operations), 400)} · "
                f"{html_inline(requirement.failures[0].title)}</summary>",
                "",
                f"> {inline(requirement.requirement.statement, 500)}",
                "",
            ]
            if requirement.requirement.troubleshooting:
                lines += [
                    f"**Likely causes and first checks:** {inline(requirement.requirement.troubleshooting, 600)}",
                    "",
                ]
            if requirement.reason:
                lines += [f"_{inline(requirement.reason)}_", ""]
            for failure in requirement.failures[:MAX_FAILURES_SHOWN]:
                lines += _failure_lines(failure)
            if len(requirement.failures) > MAX_FAILURES_SHOWN:
                more = len(requirement.failures) - MAX_FAILURES_SHOWN
                lines.append(f"- … and {more} more in {_where(artifacts_url, 'summary.json')}")
            lines += ["", "</details>", ""]
    return lines


def _errors(result: RunResult, artifacts_url: str | None) -> list[str]:
    """The errors by cause: one line per cause, naming every requirement it left unverified."""
    if not result.errors:
        return []
    groups = group_errors(result.errors)
    causes = f"{len(groups)} cause{'s' if len(groups) != 1 else ''}"
    lines = ["", f"### Errors ({len(result.errors)}, {causes})", ""]
    lines += [f"- {inline(group.headline, 2000)}" for group in groups]
    if any(len(group.errors) > 1 for group in groups):
        lines += ["", f"Each error in full: `errors` in {_where(artifacts_url, 'summary.json')}."]
    return lines


class MarkdownReporter:
    name = "markdown"

    def write(self, result: RunResult, context: ReportContext) -> Path:
        return write_atomically(context.directory / FILENAME, render_markdown(result, context.artifacts_url))
