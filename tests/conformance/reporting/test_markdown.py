"""summary.md: verdict, counts, failures with curl, waivers, not-applicable, and no injected markup."""

from __future__ import annotations

from pathlib import Path

from conformance.reporting import ReportContext
from conformance.reporting.markdown import MarkdownReporter, code_block, inline, render_markdown
from conformance.results import RunResult
from tests.conformance.reporting.builders import Scenario, waiver


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
    assert f"### Errors ({len(result.errors)})" in text
    assert "| P2-CON-001 | expired |" in text
