"""Allure: results written from the `RunResult` (both faces), grouped as Allure's users expect, and the site."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from conformance.reporting import ReportContext
from conformance.reporting.allure import (
    ALLURE_SEVERITY,
    CATEGORIES,
    AllureReporter,
    build_site,
    failure_attachments,
    properties_line,
    save_history,
)
from conformance.results import Failure, RecordedExchange, RunResult, Severity
from tests.conformance.reporting.browser import CHROMIUM, dump_dom, screenshot, served
from tests.conftest import REPO, SuiteRun


def results_of(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*-result.json"))]


def labels(result: dict[str, Any], name: str) -> list[str]:
    return [label["value"] for label in result.get("labels", []) if label["name"] == name]


def parameters(result: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in result.get("parameters", []) if not p.get("excluded")}


def test_environment_and_categories(tmp_path: Path, failing_result: RunResult) -> None:
    directory = AllureReporter().write(failing_result, ReportContext(tmp_path))
    environment = (directory / "environment.properties").read_text(encoding="ascii")
    for line in (
        "target=http\\://127.0.0.1\\:8123/v2 (embedded reference)",
        "profile=quick",
        f"seed={failing_result.seed}",
        "feature_flags=(none)",
        f"contract_sha256={failing_result.contract_sha256}",
    ):
        assert line in environment.splitlines()
    categories = json.loads((directory / "categories.json").read_text(encoding="utf-8"))
    assert categories == CATEGORIES
    assert {"Waived nonconformance", "Nonconformance: the target broke a requirement"} <= {
        c["name"] for c in categories
    }


def test_properties_lines_escape_what_java_properties_would_misread() -> None:
    assert properties_line("a key", "x=y:z\nnext") == "a\\ key=x\\=y\\:z\\nnext"
    assert properties_line("k", "café 😀") == "k=caf\\u00e9 \\ud83d\\ude00"


def test_failure_attachments_hold_request_response_and_curl(failing_result: RunResult) -> None:
    failure = next(f for f in failing_result.failures() if f.requirement_id == "P2-CON-003")
    attachments = dict(failure_attachments(failure))
    assert list(attachments) == ["failure", "request", "response", "curl"]
    assert attachments["request"].startswith("GET http://127.0.0.1:8123/v2/worlds/w-1\nAuthorization: ***\nCookie: ***")
    assert attachments["response"].startswith("200\ncontent-type: text/html\nset-cookie: ***")
    assert attachments["curl"] == failure.curl
    assert "eyJ" not in "".join(attachments.values())


def result_of(results: list[dict[str, Any]], requirement_id: str, story: str) -> dict[str, Any]:
    return next(r for r in results if labels(r, "requirement") == [requirement_id] and labels(r, "story") == [story])


def written(result: RunResult, directory: Path) -> list[dict[str, Any]]:
    return results_of(AllureReporter().write(result, ReportContext(directory)))


def test_behaviours_are_class_requirement_operation(tmp_path: Path, failing_result: RunResult) -> None:
    results = written(failing_result, tmp_path)
    failed = result_of(results, "P2-CON-003", "GET /worlds/{world_id}")
    assert failed["status"] == "failed"
    assert labels(failed, "epic") == ["contract"]
    assert labels(failed, "feature")[0].startswith("P2-CON-003 ")
    assert parameters(failed) == {"operation": "GET /worlds/{world_id}"}  # plain text, not a repr
    assert failed["statusDetails"]["message"].startswith("nonconformance: Response violates schema")
    [step] = failed["steps"]
    assert step["status"] == "failed"  # the failed step is red
    assert {a["name"] for a in step["attachments"]} == {"failure", "request", "response", "curl"}
    assert {"name": "found by", "value": "test_contract.py::test_contract"} in step["parameters"]
    # Every selected requirement × operation is one result with a stable history id; nothing unselected.
    assert len({r["historyId"] for r in results}) == len(results)
    assert all(labels(r, "epic")[0] in (*failing_result.classes, "run") for r in results)


def test_a_failure_is_labelled_with_the_requirement_it_broke(tmp_path: Path, failing_result: RunResult) -> None:
    # A P2-PRO-004 failure seen while the P2-PRO-009 scenario ran belongs to P2-PRO-004, not P2-PRO-009.
    scenario = "test_scenarios.py::test_scenario[check_representations]"
    requirements = tuple(
        replace(r, failures=tuple(replace(f, test_id=scenario) for f in r.failures)) if r.id == "P2-PRO-004" else r
        for r in failing_result.requirements
    )
    results = written(replace(failing_result, requirements=requirements), tmp_path)
    broke = result_of(results, "P2-PRO-004", "GET /engine")
    assert {"name": "found by", "value": scenario} in broke["steps"][0]["parameters"]
    assert all(not r.get("steps") for r in results if labels(r, "requirement") == ["P2-PRO-009"])


def test_waived_failures_are_skipped_with_the_waiver(tmp_path: Path, failing_result: RunResult) -> None:
    waived = result_of(written(failing_result, tmp_path), "P2-PRO-004", "GET /engine")
    assert waived["status"] == "skipped"
    assert waived["statusDetails"]["message"].startswith("waived ")
    assert [step["status"] for step in waived["steps"]] == ["skipped"]


def test_severity_is_report_htmls_scale(tmp_path: Path, failing_result: RunResult) -> None:
    assert ALLURE_SEVERITY == {Severity.CRITICAL: "critical", Severity.MAJOR: "normal", Severity.MINOR: "minor"}
    for result in written(failing_result, tmp_path):
        if labels(result, "epic") == ["run"]:
            continue
        requirement = next(
            r.requirement for r in failing_result.requirements if r.id == labels(result, "requirement")[0]
        )
        assert labels(result, "severity") == [ALLURE_SEVERITY[Severity.of(requirement)]]
    failure = next(f for f in failing_result.failures() if f.requirement_id == "P2-CON-003")
    assert ALLURE_SEVERITY[failure.severity] == "normal"  # report.html says "major": Allure's middle rank


def test_run_errors_are_broken_results(tmp_path: Path, failing_result: RunResult) -> None:
    errored = replace(failing_result, errors=("the token endpoint stopped answering",))
    broken = [r for r in written(errored, tmp_path) if r["status"] == "broken"]
    assert [r["statusDetails"]["message"] for r in broken] == ["the token endpoint stopped answering"]


@dataclass(frozen=True)
class _Step:
    title: str
    exchange: RecordedExchange | None
    expected: str
    failed: bool


@dataclass(frozen=True)
class _FailureWithSteps(Failure):
    steps: tuple[_Step, ...] = ()


def test_a_scenario_failures_steps_are_allure_steps(tmp_path: Path, failing_result: RunResult) -> None:
    original = next(f for f in failing_result.failures() if f.requirement_id == "P2-CON-003")
    assert original.exchange is not None
    steps = (
        _Step("create a world", original.exchange, "201", failed=False),
        _Step("patch it with a stale If-Match", original.exchange, "412", failed=True),
    )
    stepped = _FailureWithSteps(**{**original.__dict__, "steps": steps})
    requirements = tuple(
        replace(r, failures=(stepped,)) if r.id == "P2-CON-003" else r for r in failing_result.requirements
    )
    result = result_of(
        written(replace(failing_result, requirements=requirements), tmp_path), "P2-CON-003", "GET /worlds/{world_id}"
    )
    inner = result["steps"][0]["steps"]
    assert [(s["name"], s["status"]) for s in inner] == [
        ("1. create a world", "passed"),
        ("2. patch it with a stale If-Match", "failed"),
    ]
    assert {a["name"] for a in inner[1]["attachments"]} == {"request", "response", "expected"}


def test_writing_again_leaves_one_set_of_results(tmp_path: Path, failing_result: RunResult) -> None:
    first = len(written(failing_result, tmp_path))
    assert len(written(failing_result, tmp_path)) == first


def test_contract_operations_have_one_history_each(reference_run: SuiteRun) -> None:
    results = results_of(reference_run.report_dir / "allure-results")
    contract = [r for r in results if labels(r, "requirement") == ["P2-CON-001"]]
    assert len(contract) > 10
    for result in contract:
        assert parameters(result)["operation"] == labels(result, "story")[0]
        assert labels(result, "epic") == ["contract"]
        assert labels(result, "severity") == ["normal"]
    history_ids = [r["historyId"] for r in contract]
    assert len(set(history_ids)) == len(history_ids)


def test_history_is_copied_in_and_saved_back(tmp_path: Path, failing_result: RunResult) -> None:
    history = tmp_path / "history"
    (history / "allure-history").mkdir(parents=True)
    (history / "allure-history" / "history-trend.json").write_text('[{"data": {"passed": 3}}]', encoding="utf-8")
    directory = AllureReporter().write(failing_result, ReportContext(tmp_path / "report", history))
    assert json.loads((directory / "history" / "history-trend.json").read_text()) == [{"data": {"passed": 3}}]
    site = tmp_path / "site"
    (site / "history").mkdir(parents=True)
    (site / "history" / "history-trend.json").write_text('[{"data": {"passed": 4}}]', encoding="utf-8")
    assert save_history(site, history)
    assert json.loads((history / "allure-history" / "history-trend.json").read_text()) == [{"data": {"passed": 4}}]


def test_real_runs_carry_class_requirement_operation_and_severity(reference_run: SuiteRun) -> None:
    results = results_of(reference_run.report_dir / "allure-results")
    scenarios = [r for r in results if labels(r, "epic") == ["semantic"]]
    assert scenarios, "no result for the semantic class"
    for result in results:
        if labels(result, "epic") == ["run"]:
            continue
        assert labels(result, "feature") and labels(result, "story"), result["name"]
        assert labels(result, "severity") in (["critical"], ["normal"], ["minor"])
        assert any(link["name"] == labels(result, "requirement")[0] for link in result["links"])
    environment = (reference_run.report_dir / "allure-results" / "environment.properties").read_text()
    assert "profile=quick" in environment


def test_history_ids_are_stable_across_runs(reference_run: SuiteRun, broken_reference_run: SuiteRun) -> None:
    def ids(run: SuiteRun) -> dict[str, str]:
        return {r["name"]: r["historyId"] for r in results_of(run.report_dir / "allure-results")}

    first, second = ids(reference_run), ids(broken_reference_run)
    common = set(first) & set(second)
    assert len(common) > 10
    assert {name: first[name] for name in common} == {name: second[name] for name in common}


def test_real_failures_are_attached(broken_reference_run: SuiteRun) -> None:
    results = results_of(broken_reference_run.report_dir / "allure-results")
    directory = broken_reference_run.report_dir / "allure-results"
    attached = [
        a
        for r in results
        if r["status"] == "failed"
        for step in r.get("steps", [])
        if step["status"] == "failed"
        for a in step.get("attachments", [])
    ]
    names = {a["name"] for a in attached}
    assert {"request", "response", "curl"} <= names
    curl = next(a for a in attached if a["name"] == "curl")
    assert (directory / curl["source"]).read_text(encoding="utf-8").startswith("curl ")


def _allure_command() -> str | None:
    candidates = [
        os.environ.get("ALLURE"),
        shutil.which("allure"),
        str(REPO / "tools/node_modules/.bin/allure"),  # npm ci --prefix tools
        str(REPO / ".tox/allure/node_modules/.bin/allure"),
    ]
    return next((c for c in candidates if c and Path(c).is_file()), None)


@pytest.mark.skipif(
    _allure_command() is None or shutil.which("java") is None,
    reason="needs Allure's command line (npm ci --prefix tools) and a Java runtime",
)
def test_the_allure_site_builds_with_history(tmp_path: Path, reference_run: SuiteRun) -> None:
    allure = _allure_command()
    assert allure is not None
    report = tmp_path / "report"
    shutil.copytree(reference_run.report_dir, report)
    history = tmp_path / "history"
    site = build_site(report, history, [allure])
    assert (site / "index.html").is_file()
    environment = json.loads((site / "widgets" / "environment.json").read_text(encoding="utf-8"))
    assert {"name": "profile", "values": ["quick"]} in environment
    assert (history / "allure-history" / "history-trend.json").is_file()
    # The Behaviors tab: one epic per conformance class run.
    behaviours = json.loads((site / "data" / "behaviors.json").read_text(encoding="utf-8"))
    assert {"contract", "health", "semantic"} <= {child["name"] for child in behaviours["children"]}
    # The next build starts from the saved history: the trend has two points.
    build_site(report, history, [allure])
    trend = json.loads((history / "allure-history" / "history-trend.json").read_text(encoding="utf-8"))
    assert len(trend) == 2


@pytest.mark.skipif(
    _allure_command() is None or shutil.which("java") is None or not CHROMIUM.exists(),
    reason="needs Allure's command line (npm ci --prefix tools), a Java runtime and Chromium",
)
def test_the_allure_site_of_a_failing_run_in_the_browser(tmp_path: Path, broken_reference_run: SuiteRun) -> None:
    allure = _allure_command()
    assert allure is not None
    report = tmp_path / "report"
    shutil.copytree(broken_reference_run.report_dir, report)
    site = build_site(report, None, [allure])
    with served(site) as address:
        dom = dump_dom(address, tmp_path)
        assert "Allure Report" in dom or "allure" in dom.lower()
        shot = screenshot(address, tmp_path, "allure-site", width=1280, height=900)
    assert shot.stat().st_size > 20_000, "the site rendered, not a blank page"


def test_pytest_face_writes_allure_results_into_the_report_dir(tmp_path: Path) -> None:
    """`pytest --pyargs conformance.suite --phase2-report-dir D`: Allure results land in D too."""
    import subprocess
    import sys

    from tests.conftest import _clean_env

    report = tmp_path / "report"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--pyargs",
            "conformance.suite",
            "-q",
            "-p",
            "no:cacheprovider",
            "--phase2-reference",
            "--phase2-profile",
            "quick",
            "--phase2-classes",
            "contract,health",
            "--phase2-operations",
            "getLiveness,getReadiness",
            "--phase2-report-dir",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=_clean_env(None),
        cwd=tmp_path,
    )
    assert (report / "summary.json").is_file(), completed.stdout[-2000:] + completed.stderr[-2000:]
    results = results_of(report / "allure-results")
    health = [r for r in results if labels(r, "epic") == ["health"]]
    assert health, completed.stdout[-2000:]
    contract = [r for r in results if labels(r, "requirement") == ["P2-CON-001"]]
    assert {labels(r, "story")[0] for r in contract} == {"GET /healthz", "GET /readyz"}
    assert {parameters(r)["operation"] for r in contract} == {"GET /healthz", "GET /readyz"}
    assert (report / "allure-results" / "environment.properties").is_file()
    assert (report / "manifest.json").is_file()
