"""The CLI's usage errors: one line on stderr, exit 2, the fix or the closest spelling in the line.

Every selector and every way to name (or fail to name) a target is walked, through `main()` as a
user calls it; nothing here may start a run that tests something else than what was asked.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.cli import main
from tests.conftest import SuiteRun


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("PHASE2_", "OTEL_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def usage_line(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    return lines[0]


# Every selector of `run` and `requirements`, each with a typo that has a close known spelling.
SELECTORS = {
    "--requirement": (["run", "--reference", "--requirement", "P2-HLT001"], "did you mean P2-HLT-001?"),
    "--operation": (["run", "--reference", "--operation", "listWorld"], "did you mean listWorlds?"),
    "--classes": (["run", "--reference", "--classes", "contract,helth"], "did you mean health?"),
    "requirements --class": (["requirements", "--class", "helth"], "did you mean health?"),
}


@pytest.mark.parametrize("selector", list(SELECTORS))
def test_every_selector_refuses_an_unknown_value(selector: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv, suggestion = SELECTORS[selector]
    line = usage_line(capsys, *argv)
    assert line.startswith("phase2-conformance: error: unknown ")
    assert line.endswith(suggestion)


def test_a_requirement_id_without_anything_close_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    line = usage_line(capsys, "run", "--reference", "--requirement", "P2-XXX-999")
    assert "unknown requirement 'P2-XXX-999'" in line


def test_requirements_class_is_matched_without_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["requirements", "--class", "Health"]) == 0
    listed = capsys.readouterr().out
    assert "P2-HLT-001" in listed and "P2-CON-001" not in listed


def test_without_a_target_the_fix_is_in_the_line(capsys: pytest.CaptureFixture[str]) -> None:
    line = usage_line(capsys, "run")
    assert line == (
        "phase2-conformance: error: no target: give --base-url URL or PHASE2_BASE_URL, "
        "or --reference to test the embedded reference server"
    )


def test_a_mistyped_target_variable_is_not_replaced_by_the_reference(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHASE2_BASEURL", "https://api.example/v2")
    line = usage_line(capsys, "run")
    assert line.endswith("(ignoring unknown environment variable PHASE2_BASEURL; did you mean PHASE2_BASE_URL?)")


def test_unknown_variables_are_warned_about_before_the_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nobody listens there
    monkeypatch.setenv("PHASE2_CLIENT_ID", "ci")
    monkeypatch.setenv("PHASE2_CLIENT_SECRET", "ci-secret-value")
    monkeypatch.setenv("PHASE2_CLIENTS_ECRET", "typo")
    code = main(["run", "-q", "--base-url", f"http://127.0.0.1:{port}/v2", "--classes", "contract"])
    err = capsys.readouterr().err.splitlines()
    assert code == 3
    assert err[0] == (
        "phase2-conformance: warning: ignoring unknown environment variable PHASE2_CLIENTS_ECRET; "
        "did you mean PHASE2_CLIENT_SECRET?"
    )


def test_an_unknown_config_key_is_refused_with_a_suggestion(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    config.write_text("reference = true\nprofil = 'quick'\n")
    line = usage_line(capsys, "run", "--config", str(config))
    assert line.endswith("unknown setting 'profil'; did you mean profile?")


def test_a_history_dir_that_is_a_file_is_refused_before_the_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    history = tmp_path / "history"
    history.write_text("a file\n")
    line = usage_line(capsys, "run", "--reference", "--history-dir", str(history), "--report-dir", "r")
    assert line == f"phase2-conformance: error: --history-dir is not a directory: {history}"
    assert not (tmp_path / "r").exists()  # nothing ran, nothing was written


def test_a_rerun_dir_without_a_summary_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    line = usage_line(capsys, "run", "--reference", "--rerun-failed", str(tmp_path / "old"))
    assert "summary.json" in line


def test_an_unknown_reference_fault_is_a_usage_error_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    line = usage_line(capsys, "run", "-q", "--reference", "--reference-fault", "health-cachable", "--report-dir", "r")
    assert line == (
        "phase2-conformance: error: the embedded reference did not start: "
        "unknown fault 'health-cachable'; did you mean health-cacheable?"
    )


def test_a_callers_pytest_addopts_cannot_split_the_run(run_suite: Callable[..., SuiteRun]) -> None:
    # `-n 2` from the caller's environment once spread the run over xdist workers (no verdict).
    run = run_suite("--reference", "--profile", "quick", "--classes", "health", env={"PYTEST_ADDOPTS": "-n 2"})
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.summary["verdict"] == "pass"
    assert run.summary["counts"]["tests"].get("passed", 0) > 0


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["run", "--refrence"], "did you mean --reference?"),
        (["doctor", "--base-rul=https://api.example/v2"], "did you mean --base-url?"),
        (["run", "--reference", "--time-bugdet", "5"], "did you mean --time-budget?"),
        (["docter"], "did you mean doctor?"),
    ],
)
def test_an_unknown_flag_gets_the_closest_one(
    argv: list[str], suggestion: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    lines = capsys.readouterr().err.strip().splitlines()
    assert exited.value.code == 2 and len(lines) == 1, lines
    line = lines[0]
    if argv[0] in ("run", "doctor"):
        assert line.startswith(f"phase2-conformance {argv[0]}: error: unrecognized arguments: ")
    assert line.endswith(f"; {suggestion} (see --help)")


def test_a_wrong_value_names_the_flag_variable_or_key_the_user_typed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    flag = usage_line(capsys, "run", "--reference", "--time-budget", "0")
    assert flag == "phase2-conformance: error: --time-budget must be at least 1, got '0'"
    monkeypatch.setenv("PHASE2_TIME_BUDGET", "0")
    variable = usage_line(capsys, "run", "--reference")
    assert variable == "phase2-conformance: error: PHASE2_TIME_BUDGET must be at least 1, got '0'"
    monkeypatch.delenv("PHASE2_TIME_BUDGET")
    config = tmp_path / "run.toml"
    config.write_text("time-budget = 0\n")
    key = usage_line(capsys, "run", "--reference", "--config", str(config))
    assert key == f"phase2-conformance: error: config key 'time-budget' in {config} must be at least 1, got 0"
