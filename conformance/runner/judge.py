"""Judging responses: every response check on every response, and Schemathesis cases end to end.

Failures are recorded, not raised, so one broken rule does not stop the exploration of an
operation; the pytest item fails afterwards if anything was recorded while it ran.
"""

from __future__ import annotations

import logging
import time
import unittest
from contextvars import ContextVar
from typing import Any

import requests
from schemathesis.core.failures import Failure as StFailure
from schemathesis.core.failures import FailureGroup

from conformance.checks.builtin import ORIGIN_TAG, wrapped_builtins
from conformance.checks.context import ResponseContext
from conformance.checks.registry import REGISTRY, CheckFailed, ResponseCheck
from conformance.checks.validity import parameters_conform
from conformance.client.observed import ObservedResponse, from_schemathesis
from conformance.client.rate_governor import RateLimited
from conformance.client.tokens import TokenManager
from conformance.client.transport import LimitedSession
from conformance.contract.spec import Contract, Operation
from conformance.recorder import Recorder
from conformance.runner.budget import TimeBudget

log = logging.getLogger("conformance.judge")

# Operations that revoke the credentials they are called with get a token of their own.
REVOKING_OPERATIONS = frozenset({"logout"})


class OutOfTime(unittest.SkipTest):
    """An operation's share of the run's time budget is used: its test ends, passed so far.

    A `SkipTest` because Hypothesis re-raises those at once (no shrinking, no replay); the engine
    catches it and records the cut depth as data (`ItemOutcome.share_used`), never as a skip.
    """


# When the contract item running in this thread must stop: items run concurrently, each with its share.
SOFT_DEADLINE: ContextVar[float | None] = ContextVar("conformance_soft_deadline", default=None)


class Judge:
    """Runs the response checks on one observed response and records the verdicts."""

    def __init__(self, contract: Contract, recorder: Recorder, state: dict[str, Any]) -> None:
        self.contract = contract
        self.recorder = recorder
        self.state = state
        self.checks: tuple[ResponseCheck, ...] = REGISTRY.responses()

    def observe(self, observed: ObservedResponse) -> None:
        label = observed.operation.label if observed.operation else None
        self.recorder.count_request(label)
        context = ResponseContext(observed, self.contract, self.state)
        for spec in self.checks:
            try:
                result = spec(context)
            except CheckFailed as failure:
                self.recorder.failed(
                    failure.requirement_id or spec.requirements[0],
                    failure.title,
                    failure.message,
                    check=spec.name,
                    observed=observed,
                )
            except Exception as exc:
                self.recorder.error(f"check {spec.name} crashed on {observed.method} {observed.path}: {exc!r}")
            else:
                if result:
                    for requirement_id in spec.requirements:
                        self.recorder.passed(requirement_id, label)


class ContractExerciser:
    """Sends Schemathesis cases with the run's credentials and limits, and judges the answers."""

    def __init__(
        self,
        contract: Contract,
        judge: Judge,
        recorder: Recorder,
        tokens: TokenManager,
        session: LimitedSession,
    ) -> None:
        self.contract = contract
        self.judge = judge
        self.recorder = recorder
        self.tokens = tokens
        self.session = session
        self.builtins = wrapped_builtins(self._builtin_passed)
        self.base_url = tokens.base_url
        self.budget: TimeBudget | None = None  # measures what an operation's first cases cost

    def _builtin_passed(self, requirement_id: str, check: str, case: Any, response: Any) -> None:
        self.recorder.passed(requirement_id, case.operation.label)

    def auth_headers(self, operation: Operation | None) -> dict[str, str]:
        if operation is None or not operation.protected:
            return {}
        if operation.operation_id in REVOKING_OPERATIONS:
            return {"Authorization": f"Bearer {self.tokens.disposable_token()}"}
        return {"Authorization": f"Bearer {self.tokens.token()}"}

    @property
    def soft_deadline(self) -> float | None:
        """The calling thread's item's deadline (None: not bounded)."""
        return SOFT_DEADLINE.get()

    @soft_deadline.setter
    def soft_deadline(self, deadline: float | None) -> None:
        SOFT_DEADLINE.set(deadline)

    def out_of_time(self) -> bool:
        deadline = SOFT_DEADLINE.get()
        return deadline is not None and time.monotonic() > deadline

    def exercise(self, case: Any) -> None:
        """One generated case: send it, then run the built-in and the project checks."""
        if self.out_of_time():
            raise OutOfTime(f"{case.operation.label} used its share of the time budget")
        if self.budget is not None:
            self.budget.case_started()
        operation = self.contract.by_label(case.operation.label)
        headers = self.auth_headers(operation)
        try:
            response = case.call(base_url=self.base_url, session=self.session, headers=headers)
        except RateLimited as exc:
            # Still 429 after every retry: this case verified nothing, and failed no rule either.
            self.recorder.count_request(case.operation.label)
            self.recorder.error(f"{case.operation.label} could not be tested: {exc}")
            return
        except requests.RequestException as exc:
            self.recorder.count_request(case.operation.label)
            self.recorder.failed(
                "P2-CON-008",
                "No usable HTTP response",
                f"{case.method} {case.formatted_path}: {' '.join(str(exc).split())[:300]}",
                check="transport",
                operation=case.operation.label,
            )
            return
        observed = self.observe_case(case, response, operation)
        self.validate(case, response, headers, observed)

    def observe_case(self, case: Any, response: Any, operation: Operation | None) -> ObservedResponse:
        """Judge a Schemathesis response with the project's checks; returns what was observed."""
        negative = case.meta is not None and case.meta.generation.mode.is_negative
        observed = from_schemathesis(response, operation, negative=negative)
        if operation is not None and not negative:
            observed.conforming = parameters_conform(self.contract, operation, case)
        self.judge.observe(observed)
        return observed

    def validate(
        self,
        case: Any,
        response: Any,
        headers: dict[str, str],
        observed: ObservedResponse,
        recorder: Any = None,
    ) -> None:
        """Run the built-in checks; `recorder` is the state machine's, for the stateful checks."""
        try:
            case.validate_response(
                response,
                checks=self.builtins,
                headers=headers,
                transport_kwargs={"headers": headers},
                recorder=recorder,
            )
        except FailureGroup as group:
            for failure in group.exceptions:
                self.record_builtin_failure(failure, observed)
        except StFailure as failure:
            self.record_builtin_failure(failure, observed)

    def record_builtin_failure(self, failure: StFailure, observed: ObservedResponse) -> None:
        requirement_id, check = getattr(failure, ORIGIN_TAG, ("P2-CON-003", "schemathesis"))
        self.recorder.failed(
            requirement_id,
            failure.title,
            failure.message or failure.title,
            check=f"schemathesis.{check.lstrip('_')}",
            observed=observed,
        )
