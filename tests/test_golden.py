"""The list of requirements and the checks of each is a committed golden file: a change shows in review.

Regenerate after a deliberate change: `phase2-conformance requirements --json > tests/golden/requirements.json`
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden" / "requirements.json"


def test_requirements_and_their_checks_match_the_golden_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["requirements", "--json"]) == 0
    current = json.loads(capsys.readouterr().out)
    golden = json.loads(GOLDEN.read_text())
    assert current == golden, "the catalog or its checks changed: review, then regenerate the golden file"


def test_every_requirement_has_a_check_and_the_catalog_names_no_unknown_one() -> None:
    from conformance.checks import load_checks
    from conformance.checks.registry import REGISTRY
    from conformance.contract import load_catalog

    load_checks()
    assert REGISTRY.validate(load_catalog()) == []
