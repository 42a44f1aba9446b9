"""Request ids on every response: present, a valid sent one echoed, generated ones never repeated."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks.context import ResponseContext
from conformance.checks.registry import CheckFailed
from conformance.classes.telemetry.request_ids import check_request_id, check_request_id_unique
from conformance.client.observed import ObservedResponse
from conformance.contract import load_contract


def _context(returned: str | None, sent: str | None = None, state: dict[str, Any] | None = None) -> ResponseContext:
    observed = ObservedResponse(
        operation=load_contract().operation("listWorlds"),
        method="GET",
        url="http://127.0.0.1:9/v2/worlds",
        request_headers={"X-Request-ID": sent} if sent is not None else {},
        request_body=None,
        status=200,
        headers={"x-request-id": returned} if returned is not None else {},
        body=b"{}",
    )
    return ResponseContext(observed, load_contract(), {} if state is None else state)


def test_a_response_without_a_request_id_fails() -> None:
    with pytest.raises(CheckFailed, match="Response without X-Request-ID"):
        check_request_id(_context(None))


def test_a_valid_sent_id_must_come_back() -> None:
    assert check_request_id(_context("abc-123", sent="abc-123")) is True
    with pytest.raises(CheckFailed, match="X-Request-ID not echoed") as failed:
        check_request_id(_context("generated-1", sent="abc-123"))
    assert failed.value.message == "sent 'abc-123', got 'generated-1'"


@pytest.mark.parametrize("invalid", ["has spaces", "x" * 129, "semi;colon"])
def test_an_invalid_sent_id_may_be_replaced(invalid: str) -> None:
    assert check_request_id(_context("generated-1", sent=invalid)) is True


def test_generated_ids_are_never_repeated_across_the_run() -> None:
    state: dict[str, Any] = {}
    assert check_request_id_unique(_context("gen-1", state=state)) is True
    assert check_request_id_unique(_context("gen-2", state=state)) is True
    with pytest.raises(CheckFailed, match="Generated X-Request-ID repeated"):
        check_request_id_unique(_context("gen-1", state=state))


def test_uniqueness_judges_only_ids_the_deployment_generated() -> None:
    state: dict[str, Any] = {}
    assert check_request_id_unique(_context("mine", sent="mine", state=state)) is None
    assert check_request_id_unique(_context("mine", sent="mine", state=state)) is None  # echoed twice: fine
    assert check_request_id_unique(_context(None, state=state)) is None  # the presence rule judges that
