"""`phase2-conformance diff OLD NEW`: per requirement and per requirement × operation, text and Markdown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.reporting.summary import summary_document
from tests.conformance.reporting.builders import Scenario


def write_summary(directory: Path, scenario: Scenario) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "summary.json"
    path.write_text(json.dumps(summary_document(scenario.build())), encoding="utf-8")
    return path


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    old = write_summary(
        tmp_path / "old",
        Scenario(
            failures=[
                ("P2-CON-003", "GET /worlds/{world_id}", "bad"),
                ("P2-PRO-004", "GET /engine", "no id"),
            ],
        ),
    )
    new = write_summary(
        tmp_path / "new",
        Scenario(
            failures=[
                ("P2-CON-003", "GET /worlds/{world_id}", "bad"),
                ("P2-CON-001", "GET /worlds", "bad status"),
            ],
            not_applicable={"P2-TEL-002": "no OTLP endpoint"},
        ),
    )
    return old, new


def test_text_lists_new_fixed_still_failing_and_newly_skipped(
    runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = runs
    assert main(["diff", str(old.parent), str(new)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[1] == "REGRESSED: 2 requirements regressed (P2-CON-001, P2-TEL-002)"
    new_failures = out[out.index("New failures:") : out.index("Fixed:")]
    assert "New failures: 1 requirement\n  P2-CON-001: passed -> failed; newly failing on GET /worlds\n" in new_failures
    fixed = out[out.index("Fixed:") : out.index("Still failing:")]
    assert "  P2-PRO-004: failed -> passed; fixed on GET /engine" in fixed
    still = out[out.index("Still failing:") : out.index("Newly skipped:")]
    assert "  P2-CON-003: failed -> failed; still failing on GET /worlds/{world_id}" in still
    skipped = out[out.index("Newly skipped:") :]
    assert "  P2-TEL-002: passed -> not-applicable" in skipped
    # Each requirement once: no second list of the same changes.
    for requirement_id in ("P2-CON-001", "P2-PRO-004", "P2-CON-003", "P2-TEL-002"):
        assert out.count(requirement_id) == (2 if requirement_id in ("P2-CON-001", "P2-TEL-002") else 1), out
    assert "warning" not in out


def test_counts_are_of_requirements_not_of_operations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # One requirement failing on many operations is one regression, listed once.
    labels = ["GET /worlds", "GET /engine", "GET /runtimes", "GET /events", "GET /worlds/{world_id}"]
    old = write_summary(tmp_path / "old", Scenario())
    new = write_summary(tmp_path / "new", Scenario(failures=[("P2-PRO-004", label, "no id") for label in labels]))
    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "REGRESSED: 1 requirement regressed (P2-PRO-004); verdict went from pass to fail\n" in out
    assert "New failures: 1 requirement\n" in out
    assert sum(1 for line in out.splitlines() if line.startswith("  P2-PRO-004")) == 1
    line = next(line for line in out.splitlines() if line.startswith("  P2-PRO-004"))
    assert all(label in line for label in labels), line


def test_warns_when_the_runs_were_made_differently(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = json.loads(write_summary(tmp_path / "a", Scenario()).read_text())
    new = json.loads(json.dumps(old))
    new.update(profile="standard", seed=7)
    new["target"] = {"base_url": "https://other.example/v2", "reference": False}
    new["contract"]["sha256"] = "0" * 64
    (tmp_path / "b.json").write_text(json.dumps(new))
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "b.json")]) == 0
    out = capsys.readouterr().out
    warning = next(line for line in out.splitlines() if line.startswith("warning:"))
    for expected in (
        "profile (quick -> standard)",
        f"seed ({old['seed']} -> 7)",
        "target (the embedded reference -> https://other.example/v2)",
        f"contract ({old['contract']['sha256']} -> {'0' * 64})",
    ):
        assert expected in warning
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "b.json"), "--format", "markdown"]) == 0
    assert "> ⚠️ warning: the runs differ in profile (quick -&gt; standard)" in capsys.readouterr().out


def test_markdown_format(runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    old, new = runs
    assert main(["diff", str(old), str(new), "--format", "markdown"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("## Phase 2 conformance diff: ❌ regressed")
    assert "| P2-CON-001 | passed | failed | newly failing on GET /worlds |" in out
    assert "| P2-PRO-004 | failed | passed | fixed on GET /engine |" in out


def test_only_fixes_is_no_regression(runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    old, _ = runs
    fixed = write_summary(
        old.parent.parent / "fixed", Scenario(failures=[("P2-CON-003", "GET /worlds/{world_id}", "x")])
    )
    assert main(["diff", str(old), str(fixed)]) == 0
    out = capsys.readouterr().out
    assert "no regression" in out
    assert "P2-PRO-004: failed -> passed" in out


def test_a_pass_that_became_skipped_regresses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = json.loads(write_summary(tmp_path / "a", Scenario()).read_text())
    new = json.loads(json.dumps(old))
    new["requirements"]["P2-SEM-001"]["status"] = "skipped"
    new["verdict"] = "error"
    (tmp_path / "b.json").write_text(json.dumps(new))
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "b.json")]) == 1
    out = capsys.readouterr().out
    assert "REGRESSED: 1 requirement regressed (P2-SEM-001); verdict went from pass to error" in out
    assert "Newly skipped: 1 requirement\n  P2-SEM-001: passed -> skipped\n" in out


def _broken(*path: str, value: object) -> str:
    """A real summary with the field at `path` set to `value`."""
    document = summary_document(Scenario().build())
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return json.dumps(document)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "bad.json: no such file"),
        ("{not json", "bad.json: is not JSON"),
        (_broken("requirements", value=[]), 'bad.json: /requirements: [] is not of type "object"'),
        (
            _broken("requirements", "P2-CON-001", "status", value=3),
            "bad.json: /requirements/P2-CON-001/status: 3 is not one of",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, content: str | None, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_summary(tmp_path / "good", Scenario())
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content, encoding="utf-8")
    assert main(["diff", str(good), str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert message in captured.err
    assert "Traceback" not in captured.err


def test_two_runs_of_the_embedded_reference_are_one_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = json.loads(write_summary(tmp_path / "a", Scenario()).read_text())
    new = json.loads(json.dumps(old))
    new["target"]["base_url"] = "http://127.0.0.1:40000/v2"  # another free port, the same reference
    new["requirements"]["P2-SEM-003"]["status"] = "skipped"
    for operation in new["operations"].values():
        if "P2-SEM-003" in operation["requirements"]:
            operation["requirements"]["P2-SEM-003"] = "skipped"
    (tmp_path / "b.json").write_text(json.dumps(new))
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "b.json")]) == 1
    out = capsys.readouterr().out
    assert "warning" not in out
    line = next(line for line in out.splitlines() if line.startswith("  P2-SEM-003"))
    assert line.startswith("  P2-SEM-003: passed -> skipped on "), line
    assert line.count("passed -> skipped") == 1, "the operations' same move is not repeated"
