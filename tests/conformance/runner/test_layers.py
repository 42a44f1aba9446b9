"""The import graph matches ARCHITECTURE.md: the engine knows nothing of its faces."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parents[3] / "conformance" / "runner"
ENGINE = ("plan", "shard", "executor", "st_tests", "scenarios", "judge", "session", "outcome", "budget", "merge")
FACES = ("pytest", "_pytest", "conformance.plugin", "conformance.cli", "conformance.suite")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _within(name: str, package: str) -> bool:
    """`conformance.cli` is a face; `conformance.client` is not."""
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize("module", ENGINE)
def test_the_engine_does_not_import_its_faces(module: str) -> None:
    faces = {name for name in imported(RUNNER / f"{module}.py") if any(_within(name, face) for face in FACES)}
    assert not faces, f"runner/{module}.py imports {sorted(faces)}"


@pytest.mark.parametrize("module", sorted(path.stem for path in (RUNNER.parent / "settings").glob("*.py")))
def test_settings_do_not_import_the_engine(module: str) -> None:
    settings = RUNNER.parent / "settings" / f"{module}.py"
    assert not {name for name in imported(settings) if name.startswith("conformance.runner")}


def test_the_cli_runs_the_engine_without_pytest() -> None:
    # One engine, two faces: the CLI's run is the executor's, not a pytest session's.
    faces = {name for name in imported(RUNNER / "cli_run.py") if any(_within(name, face) for face in FACES)}
    assert not faces, f"runner/cli_run.py imports {sorted(faces)}"


def test_allure_results_come_from_the_result_not_from_pytest() -> None:
    allure = RUNNER.parent / "reporting" / "allure.py"
    names = imported(allure)
    assert not {name for name in names if _within(name, "pytest") or _within(name, "allure")}
    assert "allure_commons.model2" in names and "allure_commons.logger" in names
