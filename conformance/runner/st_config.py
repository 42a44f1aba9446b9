"""The Schemathesis configuration of a run, derived from the settings and the contract.

Expected statuses are derived from the contract, not hand-picked: a well-formed request may meet
any status the operation declares except those that mean "your input is invalid" (400, 413, 415,
422, 428). The few operations where a well-formed request can still be refused for its *values*
are listed with the reason.
"""

from __future__ import annotations

from typing import Any

from conformance.contract.spec import Contract, Operation
from conformance.settings import Settings

INVALID_INPUT = frozenset({"400", "413", "415", "422", "428"})
# operationId → statuses a schema-valid request may still get, and why.
VALUE_REFUSALS: dict[str, tuple[tuple[str, ...], str]] = {
    "refreshToken": (("400",), "an unknown or used refresh token is refused with 400 invalid_grant (RFC 6749 §5.2)"),
    "login": (("400",), "a scope the client may not hold is refused with 400 invalid_scope (RFC 6749 §5.2)"),
    "startRuntime": (("422",), "a plugin name that fits the pattern but is not installed answers 422"),
    **{
        list_operation: (("400",), "a cursor the deployment did not issue is malformed to it: 400 (P2-SEM-008)")
        for list_operation in ("listWorlds", "listRuntimes", "listEvents")
    },
}
NEGATIVE_EXPECTED = ["400", "401", "403", "404", "405", "406", "409", "412", "413", "415", "422", "428", "429"]
MISSING_HEADER_EXPECTED = ["400", "401", "403", "406", "415", "422", "428"]


def positive_statuses(operation: Operation) -> list[str]:
    statuses = {"2xx"} | {status for status in operation.statuses if status not in INVALID_INPUT}
    statuses |= set(VALUE_REFUSALS.get(operation.operation_id, ((), ""))[0])
    return sorted(statuses)


def enabled_operations(settings: Settings, contract: Contract) -> list[Operation]:
    """The operations a contract run covers: flagged ones only while their flag is on."""
    operations = []
    for operation in contract.operations:
        if operation.feature_flag and operation.feature_flag not in settings.feature_flags:
            continue
        if settings.operation_filter and operation.operation_id not in settings.operation_filter:
            continue
        operations.append(operation)
    return operations


def schemathesis_config(settings: Settings, contract: Contract, base_url: str) -> dict[str, Any]:
    profile = settings.profile
    phases = set(profile.phases)
    return {
        "seed": settings.seed,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large", "large_base_example"],
        "base-url": base_url,
        "request-timeout": settings.request_timeout,
        "max-redirects": 5,
        "max-stream-events": 50,
        "generation": {
            "mode": "all",
            # The run sends real tokens; generated Authorization values would only shadow them.
            "with-security-parameters": False,
            "max-examples": settings.max_examples,
            "database": "none",
            "no-shrink": True,
        },
        "phases": {
            "examples": {"enabled": "examples" in phases},
            "coverage": {"enabled": "coverage" in phases},
            "fuzzing": {"enabled": "fuzzing" in phases},
            "stateful": {
                "enabled": "stateful" in phases and profile.stateful_examples > 0,
                "max-steps": max(profile.stateful_steps, 2),
            },
        },
        "checks": {
            "negative_data_rejection": {"expected-statuses": NEGATIVE_EXPECTED},
            "missing_required_header": {"expected-statuses": MISSING_HEADER_EXPECTED},
        },
        # The stream stays open `wait` seconds; fuzzing it with long waits only burns the budget.
        "parameters": {"wait": 0},
        "operations": [
            {
                "include-operation-id": operation.operation_id,
                "checks": {"positive_data_acceptance": {"expected-statuses": positive_statuses(operation)}},
            }
            for operation in contract.operations
        ],
    }
