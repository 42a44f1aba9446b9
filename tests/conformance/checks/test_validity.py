from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.checks.validity import parameters_conform
from conformance.contract import load_contract


@dataclass
class GeneratedCase:
    """The parameter containers of a Schemathesis case, which is all the check reads."""

    path_parameters: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)


WORLD_ID = {"world_id": "3f0c9a52-6a4e-4f3e-9a57-1d6e2b0c8f11"}


def test_a_conforming_case_conforms() -> None:
    contract = load_contract()
    case = GeneratedCase(WORLD_ID, {}, {"If-Match": '"3"', "X-Request-ID": "abc"})
    assert parameters_conform(contract, contract.operation("updateWorld"), case)


def test_the_schemathesis_if_match_case_does_not_conform() -> None:
    contract = load_contract()
    assert not parameters_conform(
        contract, contract.operation("deleteWorld"), GeneratedCase(WORLD_ID, {}, {"if-match": "0"})
    )


def test_missing_required_and_out_of_range_do_not_conform() -> None:
    contract = load_contract()
    assert not parameters_conform(contract, contract.operation("updateWorld"), GeneratedCase(WORLD_ID))
    assert not parameters_conform(contract, contract.operation("listWorlds"), GeneratedCase({}, {"limit": 0}))
    assert parameters_conform(contract, contract.operation("listWorlds"), GeneratedCase({}, {"limit": 100}))
    assert not parameters_conform(contract, contract.operation("getWorld"), GeneratedCase({"world_id": "nope"}))
