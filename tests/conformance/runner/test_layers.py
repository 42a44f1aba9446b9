"""The import graph matches ARCHITECTURE.md's layer table: import-linter's contracts in pyproject.toml.

The graph includes imports inside functions, so a lazy import cannot hide an upward one.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
RUNNER = ROOT / "conformance" / "runner"
FACES = ("pytest", "_pytest", "conformance.plugin", "conformance.cli", "conformance.suite")
PYPROJECT = ROOT / "pyproject.toml"
CONTRACTS = (
    "The suite's layers import one way (ARCHITECTURE.md), highest first",
    "The engine knows nothing of its faces, its reporters or pytest",
    "Reporters never call the target",
    "The suite never imports the reference (HTTP or ASGI only)",
)


def _lint_imports(python_path: list[Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the suite found on `python_path`.

    In a child process: import-linter configures logging with `dictConfig`, which disables every
    logger that exists, and the tests after it in the same process would lose their log lines."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(str(path) for path in python_path)}
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
         "--config", str(PYPROJECT), "--no-cache"],
        capture_output=True, text=True, env=environment, cwd=cwd, timeout=300,
    )  # fmt: skip


def test_the_suite_keeps_every_import_contract(tmp_path: Path) -> None:
    linted = _lint_imports([ROOT], tmp_path)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    for contract in CONTRACTS:
        assert f"{contract} KEPT" in linted.stdout


# One violation of each contract, planted in a copy of the suite.
PLANTED = {
    "contract/catalog.py": "import conformance.runner.plan",  # a low layer importing a high one
    "runner/plan.py": "import pytest",  # the engine importing its face's framework
    "reporting/summary.py": "import conformance.client.transport",  # a reporter reaching the target
    "errors.py": "import phase2_reference",  # the suite importing the reference
}


def imported(path: Path) -> set[str]:
    """Every module `path` imports, at its top or inside a function."""
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


def test_an_upward_import_breaks_the_contracts(tmp_path: Path) -> None:
    suite = tmp_path / "conformance"
    shutil.copytree(ROOT / "conformance", suite, ignore=shutil.ignore_patterns("__pycache__"))
    for module, line in PLANTED.items():
        path = suite / module
        path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    linted = _lint_imports([tmp_path, ROOT], tmp_path)  # the copy first: it shadows the suite
    assert linted.returncode == 1, linted.stdout + linted.stderr
    for contract in CONTRACTS:
        assert f"{contract} BROKEN" in linted.stdout
    assert "conformance.contract is not allowed to import conformance.runner" in linted.stdout
    assert "conformance.contract.catalog -> conformance.runner.plan" in linted.stdout
