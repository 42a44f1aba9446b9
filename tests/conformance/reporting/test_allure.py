"""Allure: the reporter's files, the labels allure-pytest records for real items, and the site."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from conformance.reporting import ReportContext
from conformance.reporting.allure import (
    CATEGORIES,
    AllureReporter,
    build_site,
    failure_attachments,
    properties_line,
    save_history,
)
from conformance.results import RunResult
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


def test_the_reporter_writes_no_test_results_of_its_own(tmp_path: Path, failing_result: RunResult) -> None:
    # allure-pytest reports every item; a result written here would count twice.
    directory = AllureReporter().write(failing_result, ReportContext(tmp_path))
    assert results_of(directory) == []
    assert sorted(p.name for p in directory.iterdir()) == ["categories.json", "environment.properties"]


def test_contract_items_have_one_history_per_operation(reference_run: SuiteRun) -> None:
    results = results_of(reference_run.report_dir / "allure-results")
    contract = [r for r in results if r["name"].startswith("test_contract[")]
    assert len(contract) > 10
    for result in contract:
        operation = result["name"][len("test_contract[") : -1]
        assert parameters(result)["operation"] == repr(operation)
        assert "contract" in labels(result, "class")
        assert "P2-CON-001" in labels(result, "requirement")
        assert labels(result, "severity") in (["blocker"], ["critical"], ["minor"])
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


def test_real_items_carry_class_requirement_operation_and_severity(reference_run: SuiteRun) -> None:
    results = results_of(reference_run.report_dir / "allure-results")
    scenarios = [r for r in results if r["name"].startswith("test_scenario[")]
    assert scenarios, "allure-pytest wrote no result for the scenario items"
    for result in scenarios:
        assert labels(result, "class"), result["name"]
        assert labels(result, "requirement"), result["name"]
        assert labels(result, "severity") in (["blocker"], ["critical"], ["minor"])
        assert parameters(result)["operation"] == "'(run)'"
        assert parameters(result)["check"] == repr(result["name"][len("test_scenario[") : -1])
        assert any(link["type"] == "requirement" for link in result["links"])
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
        if r["status"] in ("failed", "skipped")
        for step in r.get("steps", [])
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
    health = [r for r in results if "health" in labels(r, "class")]
    assert health, completed.stdout[-2000:]
    contract = [r for r in results if r["name"] == "test_contract[GET /healthz]"]
    assert len(contract) == 1
    assert parameters(contract[0])["operation"] == "'GET /healthz'"
    assert (report / "allure-results" / "environment.properties").is_file()
    assert (report / "manifest.json").is_file()
