"""The contract's schemas as validators see them: its references resolve, its formats are strict."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from conformance.contract import load_contract
from conformance.contract.schemas import FORMATS, contract_registry, escape_pointer


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2026-01-15T10:00:00Z", True),
        ("2026-01-15t10:00:00.123456z", True),
        ("2026-01-15T10:00:00+05:30", True),
        ("2026-01-15T10:00:00", False),  # no offset
        ("2026-01-15 10:00:00Z", False),
        ("2026-13-01T00:00:00Z", False),  # no thirteenth month
        ("2026-02-30T00:00:00Z", False),
        (1736935200, False),  # never a date-time (every date-time of the contract is typed string too)
    ],
)
def test_date_times_are_rfc_3339(value: object, valid: bool) -> None:
    assert FORMATS.conforms(value, "date-time") is valid


def test_uuids_are_the_hyphenated_form() -> None:
    assert FORMATS.conforms("7d1f3c52-0b7e-4a5e-9c1e-2f0a3b4c5d6e", "uuid")
    assert not FORMATS.conforms("7d1f3c520b7e4a5e9c1e2f0a3b4c5d6e", "uuid")


def test_a_pointer_token_escapes_tilde_then_slash() -> None:
    assert escape_pointer("/worlds/{world_id}") == "~1worlds~1{world_id}"
    assert escape_pointer("a~/b") == "a~0~1b"


def test_a_reference_into_the_contract_resolves_and_validates() -> None:
    contract = load_contract()
    validator = Draft202012Validator(
        {"$ref": "urn:phase2#/components/schemas/WorldCreate"},
        registry=contract_registry(contract),
        format_checker=FORMATS,
    )
    assert validator.is_valid({"name": "a-world"})
    assert not validator.is_valid({"description": "no name"})
    assert contract_registry(contract) is contract_registry(contract)  # built once per contract
