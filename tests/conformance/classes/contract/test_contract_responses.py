"""P2-CON-005: a generated request that conforms to the contract is not refused as invalid."""

from __future__ import annotations

import pytest

from conformance.checks.context import ResponseContext
from conformance.checks.registry import CheckFailed
from conformance.classes.contract.contract_responses import check_valid_request_accepted
from conformance.client.observed import ObservedResponse
from conformance.contract import load_contract


def _context(
    operation_id: str,
    status: int,
    *,
    source: str = "schemathesis",
    negative: bool = False,
    conforming: bool | None = True,
) -> ResponseContext:
    contract = load_contract()
    operation = contract.operation(operation_id)
    observed = ObservedResponse(
        operation=operation,
        method=operation.method,
        url=f"http://127.0.0.1:9/v2{operation.path}",
        request_headers={},
        request_body=None,
        status=status,
        headers={"content-type": "application/json"},
        body=b"{}",
        negative=negative,
        conforming=conforming,
        source=source,
    )
    return ResponseContext(observed, contract, {})


def test_a_conforming_request_refused_as_invalid_fails() -> None:
    with pytest.raises(CheckFailed, match="Schema-valid request rejected") as failed:
        check_valid_request_accepted(_context("createWorld", 400))
    assert "POST /worlds answered 400" in failed.value.message


def test_a_conforming_request_answered_as_the_contract_allows_passes() -> None:
    assert check_valid_request_accepted(_context("createWorld", 201)) is True
    assert check_valid_request_accepted(_context("startRuntime", 422)) is True  # an uninstalled plugin


@pytest.mark.parametrize(
    "changes",
    [
        {"source": "scenario"},  # a scenario's own request: its check judges it
        {"negative": True},
        {"conforming": False},  # the generator mislabelled it: no evidence either way
        {"conforming": None},  # never re-validated
    ],
)
def test_only_re_validated_generated_positive_requests_are_judged(changes: dict[str, object]) -> None:
    assert check_valid_request_accepted(_context("createWorld", 400, **changes)) is None  # type: ignore[arg-type]
