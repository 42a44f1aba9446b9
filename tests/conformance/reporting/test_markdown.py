"""summary.md: verdict, counts, failures with curl, waivers, not-applicable, and no injected markup."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conformance.reporting import ReportContext, ci_artifacts_url, write_reports
from conformance.reporting.markdown import MarkdownReporter, code_block, code_span, inline, render_markdown
from conformance.results import RunResult
from conformance.settings import load_settings
from tests.conformance.reporting.browser import dump_dom, markdown_page, needs_chromium, screenshot
from tests.conformance.reporting.builders import Scenario, blocked_run, waiver
from tests.conftest import SuiteRun

markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py is a test dependency (GitHub's renderer)")

GITHUB = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/api", "GITHUB_RUN_ID": "4242"}
ARTIFACTS = "https://github.com/acme/api/actions/runs/4242#artifacts"


def render_gfm(text: str) -> str:
    """summary.md as GitHub shows it: CommonMark with tables, strikethrough and autolinks."""
    return str(markdown_it.MarkdownIt("gfm-like").render(text))


class _Shown(HTMLParser):
    """The rendered page's inline code spans, table cells and links, as a reader sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.code: list[str] = []
        self.cells: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack.append(tag)
        if tag == "code" and "pre" not in self._stack[:-1]:
            self.code.append("")
        if tag in ("td", "th"):
            self.cells.append("")
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._stack:
            del self._stack[len(self._stack) - 1 - self._stack[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._stack and self._stack[-1] == "code" and "pre" not in self._stack[:-1]:
            self.code[-1] += data
        if any(t in ("td", "th") for t in self._stack):
            self.cells[-1] += data


def shown(text: str) -> _Shown:
    parser = _Shown()
    parser.feed(render_gfm(text))
    return parser


def test_verdict_line_and_counts_table(failing_result: RunResult, passing_result: RunResult) -> None:
    text = render_markdown(failing_result)
    assert text.startswith("## Phase 2 conformance: ❌ FAIL — the target does not conform\n")
    assert "| class | passed | failed | waived | skipped | not-applicable |" in text
    assert "| contract | 9 | 1 | 0 | 0 | 0 |" in text
    assert "| **total** | **79** | **2** | **1** | **0** | **1** |" in text
    assert render_markdown(passing_result).startswith("## Phase 2 conformance: ✅ PASS")


def test_failed_requirements_fold_operation_message_and_curl(failing_result: RunResult) -> None:
    text = render_markdown(failing_result)
    block = text[text.index("<summary><b>P2-CON-003</b>") : text.index("</details>")]
    assert "MUST · GET /worlds/{world_id} · Response violates schema &lt;World&gt;</summary>" in block
    assert "> Every response body validates against the schema the contract declares for it." in block
    assert "```sh\ncurl -sS -X GET -H \"Authorization: Bearer $PHASE2_TOKEN\" -H 'Cookie: ***'" in block


def test_waived_stale_and_not_applicable_sections(failing_result: RunResult) -> None:
    text = render_markdown(failing_result)
    assert "### Waived (1)" in text
    assert "| P2-PRO-004 | GET /engine | waived on GET /engine until 2026\\-06\\-30" not in text  # dates unescaped
    assert "| P2-PRO-004 | GET /engine | waived on GET /engine until 2026-06-30 by platform-team" in text
    assert "### Stale waivers (1)" in text
    assert "| P2-AUTH-003 | matches nothing |" in text
    assert "### Not applicable (1)" in text
    assert "| P2-TEL-002 | the target exports no traces (OTLP endpoint not configured) |" in text


def test_hostile_text_cannot_inject_markup_or_break_out() -> None:
    assert inline("<script>alert(1)</script> | `x` *y*") == (
        "&lt;script&gt;alert(1)&lt;/script&gt; \\| \\`x\\` \\*y\\*"
    )
    body = "```\n</details><script>x</script>\n````"
    block = code_block(body)
    fence = block.split("\n", 1)[0]
    assert fence == "`````"
    assert block.endswith("\n`````")


def test_errors_listed(tmp_path: Path) -> None:
    result = Scenario(pass_everything_else=False, waivers=(waiver("P2-CON-001", expires="2025-01-01"),)).build()
    path = MarkdownReporter().write(result, ReportContext(tmp_path))
    text = path.read_text(encoding="utf-8")
    assert text.startswith("## Phase 2 conformance: ⚠️ ERROR")
    assert f"### Errors ({len(result.errors)}, " in text
    assert "| P2-CON-001 | expired |" in text


def test_github_renders_it_without_stray_escapes(failing_result: RunResult) -> None:
    page = shown(render_markdown(failing_result))
    assert page.code, "the check names and the contract hash are code spans"
    assert "check_sample" in page.code, page.code  # as written, not check\\_sample
    for span in page.code:
        assert "\\" not in span, f"a Markdown escape shows inside a code span: {span!r}"
    # No escape survives anywhere in the rendered text: every backslash the renderer left is one
    # the source meant (the hostile body's control characters, written as \x1b).
    stray = re.findall(r"\\[`*_\[\]|#~<>-]", "".join(page.text))
    assert not stray, stray


def test_github_renders_the_tables(failing_result: RunResult) -> None:
    rendered = render_gfm(render_markdown(failing_result))
    assert rendered.count("<table>") == 4  # counts, waived, stale waivers, not applicable
    cells = shown(render_markdown(failing_result)).cells
    assert cells[:6] == ["class", "passed", "failed", "waived", "skipped", "not-applicable"]
    assert cells[6:12] == ["contract", "9", "1", "0", "0", "0"]
    assert "P2-TEL-002" in cells and "the target exports no traces (OTLP endpoint not configured)" in cells
    # A hostile `|` stays inside its cell.
    hostile = Scenario(not_applicable={"P2-TEL-002": "a | b | c"}).build()
    assert "a | b | c" in shown(render_markdown(hostile)).cells


def test_github_renders_the_failure_details(failing_result: RunResult) -> None:
    rendered = render_gfm(render_markdown(failing_result))
    block = rendered[rendered.index("<details>") : rendered.index("</details>")]
    assert "<summary><b>P2-CON-003</b>" in block
    assert '<pre><code class="language-sh">curl -sS -X GET' in block
    assert "<li><strong>GET /worlds/{world_id}</strong>" in block


def test_code_span_holds_any_text() -> None:
    assert code_span("check_a*b") == "`check_a*b`"
    assert code_span("a`b") == "``a`b``"
    assert code_span("`x`") == "`` `x` ``"
    for value in ("check_a*b", "a`b", "`x`", "x ``` y"):
        assert shown(code_span(value)).code == [value]


def test_links_to_the_runs_artifacts_on_github_actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ci_artifacts_url(GITHUB) == ARTIFACTS
    for key, junk in (
        ("GITHUB_SERVER_URL", "javascript:alert(1)"),
        ("GITHUB_REPOSITORY", "acme/api)(x"),
        ("GITHUB_RUN_ID", "12a"),
    ):
        assert ci_artifacts_url({**GITHUB, key: junk}) is None
    assert ci_artifacts_url({}) is None
    labels = ["GET /worlds", "GET /engine", "GET /runtimes", "GET /events", "GET /engine/plugins", "GET /healthz"]
    result = Scenario(failures=[("P2-PRO-004", label, "no id") for label in labels]).build()
    for key, value in GITHUB.items():
        monkeypatch.setenv(key, value)
    settings = load_settings({"reference": True, "report_dir": str(tmp_path)}, env={})
    write_reports(result, settings)
    text = (tmp_path / "summary.md").read_text(encoding="utf-8")
    page = shown(text)
    assert ARTIFACTS in page.links
    assert f"and 1 more in [the run's artifacts]({ARTIFACTS})" in text
    assert "more in summary.json" not in text, "a PR reader cannot open a file on the runner"
    local = render_markdown(result)
    assert "and 1 more in summary.json" in local and "actions/runs" not in local


def test_errors_are_grouped_by_cause_on_github() -> None:
    rendered = render_gfm(render_markdown(blocked_run()))
    section = rendered[rendered.index("Errors (41, 13 causes)") :]
    assert html.unescape(section).count("<li>") == 13


@needs_chromium
def test_a_failing_runs_summary_as_github_shows_it(tmp_path: Path, broken_reference_run: SuiteRun) -> None:
    text = (broken_reference_run.report_dir / "summary.md").read_text(encoding="utf-8")
    page = markdown_page(render_gfm(text), tmp_path)
    dom = dump_dom(page, tmp_path)
    assert dom.count("<table>") >= 1 and dom.count("<details>") >= 1
    assert "Failed requirements (" in dom and "Errors (" in dom
    for span in shown(text).code:
        assert "\\" not in span, span
    screenshot(page, tmp_path, "summary-md", width=1100, height=1100)


def test_a_long_list_of_operations_says_how_many_it_left_out() -> None:
    labels = ["GET /worlds", "GET /engine", "GET /runtimes", "GET /events", "GET /engine/plugins", "GET /healthz"]
    text = render_markdown(Scenario(failures=[("P2-PRO-004", label, "no id") for label in labels]).build())
    summary = next(line for line in text.splitlines() if line.startswith("<summary><b>P2-PRO-004</b>"))
    assert "GET /engine, GET /engine/plugins, GET /events and 3 more · no id</summary>" in summary
