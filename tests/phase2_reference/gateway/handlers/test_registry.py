"""The operation table and cursor decoding shared by the list handlers."""

from __future__ import annotations

import pytest

from phase2_reference.app import build_state
from phase2_reference.gateway.contract import load_contract
from phase2_reference.gateway.handlers import HANDLERS
from phase2_reference.gateway.handlers.registry import cursor_position, operation
from phase2_reference.gateway.http import Call, RequestContext
from phase2_reference.shared.problems import ProblemError
from tests.phase2_reference.conftest import trusting_config


def test_every_operation_of_the_contract_has_a_handler() -> None:
    assert set(HANDLERS) == set(load_contract().operations)


def test_a_second_handler_for_an_operation_is_refused() -> None:
    with pytest.raises(ValueError, match="two handlers"):
        operation("getWorld")(HANDLERS["getWorld"])


def call_with(cursor: str | None) -> Call:
    context = RequestContext(method="GET", path="/v2/worlds", headers={}, request_id="r")
    query = {} if cursor is None else {"cursor": cursor}
    return Call(context, {}, query, {}, None, None, None, {})  # type: ignore[arg-type]


def test_cursor_positions() -> None:
    state = build_state(trusting_config())
    assert cursor_position(state, "worlds", call_with(None)) == 0
    assert cursor_position(state, "worlds", call_with(state.codec.encode("worlds", 12))) == 12
    with pytest.raises(ProblemError) as refused:
        cursor_position(state, "events", call_with(state.codec.encode("worlds", 12)))
    assert refused.value.status == 400
    assert refused.value.extra["errors"][0]["pointer"] == "#/query/cursor"
