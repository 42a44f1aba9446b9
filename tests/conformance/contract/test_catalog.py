from __future__ import annotations

from pathlib import Path

import pytest

from conformance.contract import Level, load_catalog, load_contract
from conformance.contract.catalog import CLASSES
from conformance.errors import ConfigError


def test_catalog_ids_are_stable_unique_and_cover_known_operations() -> None:
    catalog = load_catalog()
    operation_ids = {op.operation_id for op in load_contract().operations}
    assert len({r.id for r in catalog}) == len(catalog)
    for requirement in catalog:
        assert requirement.cls in CLASSES
        assert requirement.statement.endswith(".")
        assert set(requirement.operations) - {"*"} <= operation_ids, requirement.id
    assert {r.cls for r in catalog} == set(CLASSES)
    assert catalog.get("P2-AUTH-003").level is Level.MUST


def test_a_duplicate_id_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "requirements.yaml"
    entry = "  - {id: P2-X-001, level: MUST, class: contract, statement: A., operations: ['*']}\n"
    path.write_text("requirements:\n" + entry + entry)
    with pytest.raises(ConfigError, match="duplicate"):
        load_catalog.__wrapped__(path)


def test_every_requirement_has_its_likely_causes_and_first_checks() -> None:
    missing = [r.id for r in load_catalog() if len(r.troubleshooting) < 40]
    assert not missing, f"requirements without a troubleshooting entry: {missing}"


def test_the_requirements_command_shows_them(capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.cli import main

    assert main(["requirements", "--class", "health"]) == 0
    out = capsys.readouterr().out
    assert "first checks: /readyz without a check per component" in out
