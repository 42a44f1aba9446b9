"""report.html: one offline file, everything escaped, and it works in a real headless browser."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path

from conformance.reporting import ReportContext
from conformance.reporting.history import HistoryReporter
from conformance.reporting.html import SCRIPT, HtmlReporter, render_html
from conformance.results import RunResult
from tests.conformance.reporting.browser import dump_dom, needs_chromium, screenshot
from tests.conformance.reporting.builders import Scenario, blocked_run, failing_run, passing_run
from tests.conftest import SuiteRun


def test_one_self_contained_file(failing_result: RunResult) -> None:
    page = render_html(failing_result)
    assert page.count("<script>") == 1  # ours, and nothing the target sent
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page, re.IGNORECASE)
    assert not re.search(r"\b(src|href)\s*=\s*[\"']?(https?:)?//", page, re.IGNORECASE)
    assert "@import" not in page
    assert "url(" not in page
    script_hash = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    assert f"script-src &#x27;sha256-{script_hash}&#x27;" in page
    assert "default-src &#x27;none&#x27;" in page


def test_hostile_response_bodies_are_escaped(failing_result: RunResult) -> None:
    page = render_html(failing_result)
    assert "<script>document.title" not in page
    assert "&lt;/script&gt;&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in page
    assert "<img src=x" not in page
    assert "\\x1b[31m" in page  # control characters made visible


def test_matrix_operations_failures_and_verdict(failing_result: RunResult) -> None:
    page = render_html(failing_result)
    assert 'id="verdict" class="verdict verdict-fail" data-verdict="fail">FAIL</div>' in page
    assert page.count('<tr class="requirement"') == len(failing_result.requirements)
    assert page.count('<tr class="operation"') == len(failing_result.operations)
    assert '<h3 class="class-heading">contract <small>(1 failed, 9 passed)</small></h3>' in page
    failure = page[page.index('id="failure-1"') : page.index("</details>")]
    assert "Every response body validates against the schema the contract declares for it." in failure
    assert '<pre class="request"><code>GET http://127.0.0.1:8123/v2/worlds/w-1\nAuthorization: ***' in failure
    assert '<pre class="response"><code>200\ncontent-type: text/html' in failure
    assert '<pre class="curl"><code>curl -sS -X GET -H &quot;Authorization: Bearer $PHASE2_TOKEN&quot;' in failure
    waived = page[page.index('open data-status="waived" data-class="protocol"') :]
    assert "waived on GET /engine until 2026-06-30 by platform-team" in waived[: waived.index("</details>")]


def test_trend_reads_earlier_runs_from_the_history_dir(tmp_path: Path, failing_result: RunResult) -> None:
    history = tmp_path / "history"
    earlier = passing_run()
    HistoryReporter().write(earlier, ReportContext(tmp_path / "earlier", history))
    path = HtmlReporter().write(failing_result, ReportContext(tmp_path / "report", history))
    page = path.read_text(encoding="utf-8")
    assert '<h2 id="trend">Trend over 2 runs</h2>' in page
    table = page[page.index('<table id="trend-table">') :]
    assert table.index(failing_result.run_id) < table.index(earlier.run_id)  # newest first
    polyline = re.search(
        r'id="trend-passed".*?<polyline fill="none" stroke="#1a7f37" stroke-width="2" points="([^"]+)"', page
    )
    assert polyline is not None
    assert len(polyline.group(1).split()) == 2
    HistoryReporter().write(failing_result, ReportContext(tmp_path / "report", history))
    kept = sorted(p.name for p in (history / "runs").glob("*.json"))
    assert f"{failing_result.run_id}.json" in kept
    assert json.loads((history / "runs" / f"{failing_result.run_id}.json").read_text())["verdict"] == "fail"


def test_no_trend_without_history(failing_result: RunResult) -> None:
    assert 'id="trend"' not in render_html(failing_result)


@needs_chromium
def test_renders_in_headless_chromium_with_scripts_and_no_injection(tmp_path: Path, failing_reports: Path) -> None:
    dom = dump_dom(failing_reports / "report.html", tmp_path)
    assert 'data-ready="true"' in dom  # our script ran
    assert re.search(r'id="verdict"[^>]*>FAIL</div>', dom)
    assert '<span id="filter-count">83 of 83 requirements shown</span>' in dom
    assert "Response violates schema &lt;World&gt;" in dom
    assert "reproduce" in dom.lower()
    # The hostile body stayed text: its script did not run, its image never became an element.
    title = re.search(r"<title>([^<]*)</title>", dom)
    assert title is not None
    assert title.group(1).startswith("Phase 2 conformance: FAIL")
    assert "pwned" not in title.group(1)
    assert not re.search(r"<img\b", dom)
    assert dom.count("<script>") == 1


@needs_chromium
def test_filters_by_status_and_class_in_the_browser(tmp_path: Path, failing_reports: Path) -> None:
    page = failing_reports / "report.html"
    dom = dump_dom(page, tmp_path, "#status=failed")
    assert '<span id="filter-count">2 of 83 requirements shown</span>' in dom
    assert re.search(r'<tr class="requirement" id="req-P2-CON-003" data-status="failed" data-class="contract">', dom)
    assert re.search(
        r'<tr class="requirement" id="req-P2-CON-001" data-status="passed" data-class="contract" hidden', dom
    )
    dom = dump_dom(page, tmp_path, "#status=failed,passed&class=semantic")
    assert '<span id="filter-count">22 of 83 requirements shown</span>' in dom


@needs_chromium
def test_real_report_in_the_browser(tmp_path: Path, broken_reference_run: SuiteRun) -> None:
    dom = dump_dom(broken_reference_run.report_dir / "report.html", tmp_path)
    verdict = broken_reference_run.summary["verdict"].upper()
    assert re.search(rf'id="verdict"[^>]*>{verdict}</div>', dom)
    assert 'data-ready="true"' in dom
    failed = broken_reference_run.failed_requirements()
    assert failed, "the broken reference should fail something"
    assert 'class="failure"' in dom
    for requirement_id in failed:
        assert f'id="req-{requirement_id}" data-status="failed"' in dom


def test_opens_on_the_verdict_and_the_failures_then_the_matrix(failing_result: RunResult) -> None:
    page = render_html(replace(failing_run(), errors=("no test was executed",)))
    order = [
        page.index('id="verdict"'),
        page.index('id="filters"'),
        page.index('id="failures"'),
        page.index('id="errors"'),
        page.index('id="matrix"'),
        page.index('id="operations"'),
        page.index('id="run"'),
    ]
    assert order == sorted(order), order


def _y_of(page: str, series: str) -> list[float]:
    panel = page[page.index(f'id="trend-{series}"') :]
    points = re.search(r'<polyline[^>]*points="([^"]+)"', panel)
    assert points is not None
    return [float(pair.split(",")[1]) for pair in points.group(1).split()]


def test_the_trend_shows_dates_and_a_change_from_0_to_3_failures(tmp_path: Path) -> None:
    history = tmp_path / "history"
    for day, failures in ((10, ()), (11, ()), (12, ("P2-CON-003", "P2-CON-001", "P2-SEM-014"))):
        scenario = Scenario(failures=[(rid, "GET /worlds", "broken") for rid in failures])
        result = scenario.build()
        result = replace(result, run_id=f"run-{day}", finished_at=f"2026-01-{day}T10:00:42Z")
        HistoryReporter().write(result, ReportContext(tmp_path / f"report-{day}", history))
    page = HtmlReporter().write(result, ReportContext(tmp_path / "report", history)).read_text(encoding="utf-8")
    failed = _y_of(page, "failed")
    assert len(failed) == 3
    panel = page[page.index('id="trend-failed"') :]
    height = float(re.search(r'height="(\d+)"', panel).group(1))  # type: ignore[union-attr]
    # 0 → 3 failures spans at least half the panel (on a 0–82 scale it moved 4% of it).
    assert failed[0] - failed[2] >= height / 2, failed
    assert 'data-top="3"' in panel[: panel.index("</svg>")]
    dates = re.findall(r'<text class="date"[^>]*>([^<]+)</text>', page)
    assert dates[:3] == ["2026-01-10 10:00", "2026-01-11 10:00", "2026-01-12 10:00"]


@needs_chromium
def test_filters_apply_to_the_errors_in_the_browser(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(blocked_run()), encoding="utf-8")
    dom = dump_dom(page, tmp_path)
    assert ", 13 of 13 error causes</span>" in dom
    dom = dump_dom(page, tmp_path, "#class=auth")
    assert ", 0 of 13 error causes</span>" in dom, "no error concerns the auth class"
    assert not re.search(r'<li class="error-group"[^>]*data-class="[^"]*"(?! hidden)>', dom)
    dom = dump_dom(page, tmp_path, "#status=error&class=semantic")
    assert "0 of 83 requirements shown, 13 of 13 error causes" in dom
    dom = dump_dom(page, tmp_path, "#status=failed,passed")
    assert ", 0 of 13 error causes</span>" in dom


@needs_chromium
def test_a_failing_run_opens_on_its_failures_in_the_browser(tmp_path: Path, broken_reference_run: SuiteRun) -> None:
    page = broken_reference_run.report_dir / "report.html"
    dom = dump_dom(page, tmp_path)
    assert dom.index('id="verdict"') < dom.index('class="failure"') < dom.index('id="matrix"')
    shot = screenshot(page, tmp_path, "report-html", height=1100)
    assert shot.stat().st_size > 20_000, "a page with the verdict and failure cards, not a blank one"
