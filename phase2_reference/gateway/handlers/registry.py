"""The operationId → handler table, filled by the `operation` decorator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from phase2_reference.gateway.http import Call, Reply
from phase2_reference.gateway.state import AppState
from phase2_reference.shared.problems import bad_request
from phase2_reference.store.cursors import InvalidCursor

Handler = Callable[[AppState, Call], Awaitable[Reply]]
HANDLERS: dict[str, Handler] = {}


def operation(operation_id: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if operation_id in HANDLERS:
            raise ValueError(f"two handlers for {operation_id}")
        HANDLERS[operation_id] = handler
        return handler

    return register


def cursor_position(state: AppState, kind: str, call: Call) -> int:
    """The sequence a list continues after: 0 without a cursor; a foreign or tampered one is a 400."""
    cursor = call.query.get("cursor")
    if cursor is None:
        return 0
    try:
        return state.codec.decode(kind, cursor)
    except InvalidCursor as exc:
        raise bad_request(str(exc), [{"pointer": "#/query/cursor", "detail": str(exc)}]) from None
