"""Errors grouped by root cause, with counts that are always whole, in every report that lists them."""

from __future__ import annotations

import re

import pytest

from conformance.reporting.causes import and_more, cause_of, group_errors
from conformance.reporting.console import ERROR_GROUPS_SHOWN, render_summary
from conformance.reporting.html import render_html
from conformance.reporting.markdown import render_markdown
from conformance.results import RunResult
from tests.conformance.reporting.builders import ETAG_CAUSE, blocked_run


@pytest.fixture(scope="module")
def blocked() -> RunResult:
    return blocked_run()


def blocked_ids(result: RunResult) -> list[str]:
    return [e.split(" ", 1)[0] for e in result.errors if ETAG_CAUSE in e]


def test_one_cause_is_one_group_naming_every_requirement(blocked: RunResult) -> None:
    groups = group_errors(blocked.errors)
    assert len(groups) == 13
    first = groups[0]
    assert first.cause == ETAG_CAUSE
    assert len(first.requirements) == len(first.errors) == 29
    assert first.headline == f"29 requirements not verified because {ETAG_CAUSE}: " + ", ".join(blocked_ids(blocked))
    assert sum(len(g.errors) for g in groups) == len(blocked.errors)


@pytest.mark.parametrize(
    ("reason", "cause"),
    [
        ("check_merge_patch could not run: read the world before patching it: " + ETAG_CAUSE, ETAG_CAUSE),
        ("check_event_stream could not run: " + ETAG_CAUSE, ETAG_CAUSE),
        ("check_x: the target did not answer properly: ReadTimeout", "the target did not answer properly: ReadTimeout"),
        (
            "the time budget of 5s ran out before test_scenarios.py::test_scenario[check_x] could run; give more",
            "the time budget of 5s ran out; give more",
        ),
        ("not evaluated: no check reached it in this run", "not evaluated: no check reached it in this run"),
    ],
)
def test_the_cause_of_a_reason(reason: str, cause: str) -> None:
    assert cause_of(reason) == cause


def test_errors_of_the_run_stay_whole() -> None:
    groups = group_errors(["no test was executed", "the html report could not be written: OSError"])
    assert [g.headline for g in groups] == ["no test was executed", "the html report could not be written: OSError"]


def test_and_more_only_when_something_was_left_out() -> None:
    assert and_more(10, 10, "x") is None
    assert and_more(10, 13, "summary.md") == "and 3 more in summary.md"


def test_the_console_leads_with_the_cause_and_counts_whole(blocked: RunResult) -> None:
    text = render_summary(blocked, "reports/x")
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("Errors:"))
    assert header == f"Errors: {len(blocked.errors)} (13 causes)"
    shown = [line for line in lines if line.startswith("  - ") and "not verified because" in line]
    assert len(shown) == ERROR_GROUPS_SHOWN
    assert shown[0] == f"  - 29 requirements not verified because {ETAG_CAUSE}: " + ", ".join(blocked_ids(blocked))
    more = next(line for line in lines if line.startswith("  - and "))
    left = int(re.fullmatch(r"  - and (\d+) more in summary\.md", more).group(1))  # type: ignore[union-attr]
    assert len(shown) + left == 13, "the count of what was left out is whole"
    # The cause comes before the table, the verdict last.
    assert text.index("not verified because") < text.index("class ") < text.index("Verdict:")


def test_summary_md_and_report_html_list_every_cause(blocked: RunResult) -> None:
    markdown = render_markdown(blocked)
    section = markdown[markdown.index("### Errors") :]
    assert section.startswith(f"### Errors ({len(blocked.errors)}, 13 causes)")
    assert section.count("\n- ") == 13
    assert f"29 requirements not verified because {ETAG_CAUSE}: " in section
    page = render_html(blocked)
    errors = page[page.index('<section id="errors"') : page.index("</section>", page.index('<section id="errors"'))]
    assert errors.count('<li class="error-group"') == 13
    assert f"29 requirements not verified because {ETAG_CAUSE}" in re.sub(r"<[^>]+>", "", errors)
    for requirement_id in blocked_ids(blocked):
        assert f'href="#req-{requirement_id}"' in errors
