"""What a well-formed request may be answered: any declared status but 'your input is invalid',
except where the contract lets a value be refused."""

from __future__ import annotations

from conformance.contract import load_contract
from conformance.contract.expectations import INVALID_INPUT, VALUE_REFUSALS, positive_statuses, status_allowed


def test_every_value_refusal_names_an_operation_and_a_status_it_declares() -> None:
    contract = load_contract()
    for operation_id, (statuses, reason) in VALUE_REFUSALS.items():
        operation = contract.operation(operation_id)
        assert set(statuses) <= set(operation.statuses), operation_id
        assert reason


def test_a_valid_request_may_not_be_told_its_input_is_invalid() -> None:
    contract = load_contract()
    for operation in contract.operations:
        allowed = positive_statuses(operation)
        assert "2xx" in allowed
        refusable = set(VALUE_REFUSALS.get(operation.operation_id, ((), ""))[0])
        assert set(allowed) & INVALID_INPUT == refusable, operation.operation_id
        assert allowed == sorted(allowed)


def test_start_runtime_may_refuse_an_uninstalled_plugin_only() -> None:
    allowed = positive_statuses(load_contract().operation("startRuntime"))
    assert "422" in allowed and "400" not in allowed


def test_a_status_is_allowed_exactly_or_by_its_range() -> None:
    assert status_allowed(201, ["2xx"]) and status_allowed(404, ["404"])
    assert not status_allowed(400, ["2xx", "404"])
    assert not status_allowed(500, ["5XX"])  # ranges are spelled as the contract spells them
