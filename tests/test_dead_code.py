"""No dead code in conformance/ or phase2_reference/: vulture, configured in pyproject.toml.

What vulture cannot see being used is in tests/vulture_whitelist.py, each entry with its user.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WHITELIST = REPO / "tests" / "vulture_whitelist.py"
PACKAGES = ("conformance", "phase2_reference")


def vulture(*arguments: str) -> subprocess.CompletedProcess[str]:
    # From the repository root, so vulture reads [tool.vulture] of pyproject.toml.
    return subprocess.run(
        [sys.executable, "-m", "vulture", *arguments], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def test_vulture_finds_no_dead_code_in_the_packages() -> None:
    result = vulture()
    assert result.returncode == 0, f"vulture (exit {result.returncode}):\n{result.stdout}{result.stderr}"
    assert result.stdout == ""


def test_vulture_reports_an_unused_function_and_attribute(tmp_path: Path) -> None:
    """The check can fail: with the same settings, dead code in a module is reported (exit 3)."""
    module = tmp_path / "dead.py"
    module.write_text(
        "class Holder:\n"
        "    def __init__(self) -> None:\n"
        "        self.never_read = 1\n\n\n"
        "def never_called() -> None:\n"
        "    pass\n\n\n"
        "Holder()\n"
    )
    result = vulture(str(module), str(WHITELIST))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "unused function 'never_called'" in result.stdout
    assert "unused attribute 'never_read'" in result.stdout


def test_every_whitelist_entry_names_something_in_the_packages() -> None:
    """A name whose code is gone leaves the whitelist too, so it cannot hide new dead code for long."""
    tree = ast.parse(WHITELIST.read_text(encoding="utf-8"))
    names = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "used"
    }
    assert names, "the whitelist names nothing"
    sources = "\n".join(
        path.read_text(encoding="utf-8") for package in PACKAGES for path in sorted((REPO / package).rglob("*.py"))
    )
    stale = sorted(name for name in names if not re.search(rf"\b{re.escape(name)}\b", sources))
    assert not stale, f"whitelisted but found nowhere in {', '.join(PACKAGES)}: {stale}"
