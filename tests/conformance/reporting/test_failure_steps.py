"""A failure's cause, id and steps in report.html and on the console: escaped, complete, never cut."""

from __future__ import annotations

from conformance.reporting.console import failure_lines, render_summary
from conformance.reporting.html import failure_replay_html
from conformance.reporting.summary import failure_document
from conformance.results import Failure, RunResult, Severity, Step
from tests.conformance.reporting.builders import HOSTILE_BODY


def step(url: str, status: int, expected: str | None, credential: str = "role:primary") -> Step:
    return Step("PATCH", url, {"Authorization": "***"}, "{}", status, {}, HOSTILE_BODY, expected, credential)


def scenario_failure(curl: str) -> Failure:
    return Failure(
        "P2-SEM-004",
        "An update with a stale If-Match was not refused with 412",
        "updateWorld with a stale If-Match answered 200",
        Severity.MAJOR,
        "check_stale_if_match",
        "PATCH /worlds/{world_id}",
        curl=curl,
        expected="412",
        actual="answered 200",
        expected_status=(412,),
        steps=(
            step("http://t/v2/worlds", 201, "201 (create a world)"),
            step("http://t/v2/worlds/<script>alert(1)</script>", 200, "412 <b>"),
        ),
        steps_dropped=2,
    )


def test_the_steps_are_listed_escaped_with_what_was_expected() -> None:
    page = failure_replay_html(scenario_failure("curl -sS http://t/v2"))
    assert '<p class="cause">answered 200, expected 412</p>' in page
    assert "phase2-conformance replay P2-SEM-004-" in page
    assert "<h3>Steps (2 earlier not kept)</h3>" in page
    assert page.count("<li>") == 2
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert "expected 412 &lt;b&gt;" in page and "<b>" not in page


def test_the_console_line_says_the_cause_and_prints_the_whole_command() -> None:
    long_curl = "curl -sS -X PATCH --data-binary '" + "x" * 5000 + "' http://t/v2/worlds/w-1"
    lines = failure_lines(scenario_failure(long_curl))
    assert lines[0].endswith("An update with a stale If-Match was not refused with 412: answered 200, expected 412")
    assert "replay (2 steps): phase2-conformance replay P2-SEM-004-" in lines[1]
    assert lines[-1] == f"           reproduce: {long_curl}"


def test_the_summary_document_carries_id_cause_and_steps() -> None:
    failure = scenario_failure("curl")
    document = failure_document(failure)
    assert document["id"] == failure.id and document["cause"] == "answered 200, expected 412"
    assert document["expected_status"] == [412]
    assert [s["expected"] for s in document["steps"]] == ["201 (create a world)", "412 <b>"]


def test_every_reproduction_of_a_run_is_printed_whole(failing_result: RunResult) -> None:
    text = render_summary(failing_result, "reports/x")
    shown = [failure for requirement in failing_result.requirements for failure in requirement.failures[:3]]
    assert any(f.curl for f in shown)
    for failure in shown:
        assert failure.curl is None or f"reproduce: {failure.curl}\n" in text
        assert f"phase2-conformance replay {failure.id}" in text
