"""What a well-formed request may be answered, derived from the contract.

A request that conforms to the contract may meet any status its operation declares except those
that mean "your input is invalid" (400, 413, 415, 422, 428). The few operations where a
well-formed request can still be refused for its *values* are listed with the reason.
"""

from __future__ import annotations

from conformance.contract.spec import Operation

INVALID_INPUT = frozenset({"400", "413", "415", "422", "428"})
# operationId → statuses a schema-valid request may still get, and why.
VALUE_REFUSALS: dict[str, tuple[tuple[str, ...], str]] = {
    "refreshToken": (
        ("400",),
        "an unknown or used refresh token is refused with 400 invalid_grant (RFC 6749 §5.2)",
    ),
    "login": (("400",), "a scope the client may not hold is refused with 400 invalid_scope (RFC 6749 §5.2)"),
    "startRuntime": (("422",), "a plugin name that fits the pattern but is not installed answers 422"),
    **{
        list_operation: (
            ("400",),
            "a cursor the deployment did not issue is malformed to it: 400 (P2-SEM-008)",
        )
        for list_operation in ("listWorlds", "listRuntimes", "listEvents")
    },
}


def positive_statuses(operation: Operation) -> list[str]:
    statuses = {"2xx"} | {status for status in operation.statuses if status not in INVALID_INPUT}
    statuses |= set(VALUE_REFUSALS.get(operation.operation_id, ((), ""))[0])
    return sorted(statuses)


def status_allowed(status: int, allowed: list[str]) -> bool:
    code = str(status)
    return code in allowed or f"{code[0]}xx" in allowed
