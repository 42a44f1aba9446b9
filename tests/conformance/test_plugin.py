"""The pytest face, through pytester: options in one group, inert by default, the same verdicts."""

from __future__ import annotations

import json
import re

import pytest


def test_options_are_in_the_phase2_group(pytester: pytest.Pytester) -> None:
    from conformance.settings.pytest_options import PYTEST_SETTINGS
    from conformance.settings.schema import Face

    result = pytester.runpytest_subprocess("--help")
    help_text = result.stdout.str()
    assert "Phase 2 conformance:" in help_text
    group = help_text.split("Phase 2 conformance:", 1)[1]
    options = [setting.option(Face.PYTEST) for setting in PYTEST_SETTINGS]
    assert len(options) >= 38  # every setting with a flag of `run`: the pytest face once had 20
    for option in options:
        assert re.search(rf"{re.escape(str(option))}(?![\w-])", group), option


def test_a_wrong_value_names_the_pytest_option(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        "--pyargs", "conformance.suite", "--phase2-reference", "--phase2-time-budget", "0", "-p", "no:cacheprovider"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "phase2: --phase2-time-budget must be at least 1, got '0'" in result.stderr.str()


def test_the_plugin_is_inert_in_other_projects(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_other="def test_unrelated():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "reports").exists()


def test_a_bad_setting_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--pyargs", "conformance.suite", "--phase2-profile", "deep")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown profile 'deep'" in result.stderr.str()


def test_a_run_inside_pytest_gives_the_suites_verdict_and_reports(pytester: pytest.Pytester) -> None:
    report_dir = pytester.path / "phase2-report"
    result = pytester.runpytest_subprocess(
        "--pyargs", "conformance.suite", "--phase2-reference", "--phase2-profile", "quick",
        "--phase2-classes", "health", "--phase2-report-dir", str(report_dir), "-p", "no:cacheprovider", "-rs",
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()[-3000:]
    # The plugin parametrizes the suite from the plan in its stash: the health scenarios only, and
    # the kinds without an item say why instead of vanishing.
    output = result.stdout.str()
    assert "no operation to cover: the contract and protocol classes are not selected" in output
    summary = json.loads((report_dir / "summary.json").read_text())
    scenarios = [test for test in summary["tests"] if test["test_id"].startswith("test_scenarios.py::")]
    assert any(test["outcome"] == "passed" for test in scenarios)
    assert summary["verdict"] == "pass"
    assert {r["status"] for rid, r in summary["requirements"].items() if rid.startswith("P2-HLT-")} == {"passed"}
    assert (report_dir / "junit.xml").exists() and (report_dir / "report.html").exists()


def test_a_nonconforming_target_fails_the_pytest_run(pytester: pytest.Pytester) -> None:
    report_dir = pytester.path / "phase2-report"
    pytester.makeini("[pytest]\n")
    result = pytester.runpytest_subprocess(
        "--pyargs", "conformance.suite", "--phase2-reference", "--phase2-profile", "quick",
        "--phase2-classes", "health", "--phase2-report-dir", str(report_dir), "-p", "no:cacheprovider",
        "--phase2-config", str(_fault_config(pytester, "health-cacheable")),
    )  # fmt: skip
    assert result.ret == 1
    summary = json.loads((report_dir / "summary.json").read_text())
    assert summary["requirements"]["P2-HLT-004"]["status"] == "failed"


def _fault_config(pytester: pytest.Pytester, fault: str) -> object:
    path = pytester.path / "phase2.toml"
    path.write_text(f'reference-faults = ["{fault}"]\n')
    return path


def test_without_a_target_the_suite_is_a_usage_error_not_the_reference(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--pyargs", "conformance.suite", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "no target: give --base-url URL or PHASE2_BASE_URL, or --reference" in result.stderr.str()
    assert not (pytester.path / "reports").exists()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--phase2-requirements", "P2-HLT001", "did you mean P2-HLT-001?"),
        ("--phase2-operations", "getLivenes", "did you mean getLiveness?"),
        ("--phase2-classes", "helth", "did you mean health?"),
    ],
)
def test_every_selector_option_is_validated(pytester: pytest.Pytester, option: str, value: str, message: str) -> None:
    result = pytester.runpytest_subprocess("--pyargs", "conformance.suite", "--phase2-reference", option, value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_xdist_n_becomes_the_engines_worker_threads(pytester: pytest.Pytester) -> None:
    """`-n 2`: one session, one verdict, one set of reports; the engine's two threads, no xdist worker."""
    report_dir = pytester.path / "phase2-report"
    result = pytester.runpytest_subprocess(
        "--pyargs", "conformance.suite", "--phase2-reference", "--phase2-profile", "quick",
        "--phase2-classes", "health,semantic", "--phase2-report-dir", str(report_dir), "-p", "no:cacheprovider",
        "-n", "2",
    )  # fmt: skip
    output = result.stdout.str()
    assert result.ret == 0, output[-3000:]
    assert "2 worker thread(s)" in output, output[:2000]
    # xdist started nobody. (Not a bare "gw0": the outer run's own xdist tmp path may hold it.)
    assert "created: 2/2 workers" not in output and "bringing up nodes" not in output
    assert not re.search(r"\[gw\d+\]|\bgw\d+ \[\d+ items?\]", output)
    summary = json.loads((report_dir / "summary.json").read_text())
    assert summary["verdict"] == "pass"
    # One session: every item once, in one summary, judged by one recorder.
    names = [test["name"] for test in summary["tests"]]
    assert len(names) == len(set(names)) and any(name.startswith("test_scenario[") for name in names)
    assert (report_dir / "junit.xml").is_file() and (report_dir / "allure-results").is_dir()
    assert len(list(pytester.path.rglob("summary.json"))) == 1


def test_xdist_workers_are_not_taken_from_other_projects(pytester: pytest.Pytester) -> None:
    # Outside a run of the suite the plugin leaves xdist alone: `-n 2` still distributes.
    pytester.makepyfile(test_other="def test_unrelated():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=1)
    assert "2 workers" in result.stdout.str()


def test_other_projects_reports_carry_nothing_of_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_other="def test_unrelated(record_property):\n    record_property('mine', 1)\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--junitxml=junit.xml")
    result.assert_outcomes(passed=1)
    junit = (pytester.path / "junit.xml").read_text()
    assert 'name="mine"' in junit
    assert "phase2" not in junit
