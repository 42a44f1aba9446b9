"""Contract-class rules the suite judges itself, beside Schemathesis' built-in checks."""

from __future__ import annotations

from conformance.checks.context import ResponseContext
from conformance.checks.registry import CheckFailed, check
from conformance.contract.expectations import positive_statuses, status_allowed


@check("P2-CON-005", kind="response")
def check_valid_request_accepted(ctx: ResponseContext) -> bool | None:
    """A generated request that conforms to the contract is not refused as invalid.

    Only requests re-validated against the contract count (`conforming`), so a generator that
    mislabels invalid data as valid cannot blame the target.
    """
    response = ctx.response
    operation = response.operation
    if response.source != "schemathesis" or response.negative or not response.conforming or operation is None:
        return None
    allowed = positive_statuses(operation)
    if not status_allowed(response.status, allowed):
        raise CheckFailed(
            "Schema-valid request rejected",
            f"{operation.label} answered {response.status} to a request that conforms to the contract; "
            f"expected one of {', '.join(allowed)}",
            expected=f"one of {', '.join(allowed)}",
            actual=f"answered {response.status}",
        )
    return True
