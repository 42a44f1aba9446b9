"""Judging responses: every response check on every response, and Schemathesis cases end to end.

Failures are recorded, not raised, so one broken rule does not stop the exploration of an
operation; the pytest item fails afterwards if anything was recorded while it ran.
"""

from __future__ import annotations

import logging
import threading
import time
import unittest
from contextvars import ContextVar
from typing import Any

import requests
from schemathesis.core.failures import Failure as StFailure
from schemathesis.core.failures import FailureGroup, ServerError

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
from conformance.runner.check_transport import CHECK_SESSION

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
                    expected=failure.expected,
                    actual=failure.actual,
                    expected_status=failure.expected_status,
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
        self.builtins = wrapped_builtins(self._builtin_passed, self._builtin_unanswered)
        self.base_url = tokens.base_url
        self.budget: TimeBudget | None = None  # measures what an operation's first cases cost
        self.stopping: threading.Event | None = None  # the run's: set, every item ends at its next case

    def _builtin_passed(self, requirement_id: str, check: str, case: Any, response: Any) -> None:
        self.recorder.passed(requirement_id, case.operation.label)

    def _builtin_unanswered(self, check: str, case: Any, error: requests.RequestException) -> None:
        self.unanswered(case, error, f"{check}'s own request for ")

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
        if self.stopping is not None and self.stopping.is_set():
            return True
        deadline = SOFT_DEADLINE.get()
        return deadline is not None and time.monotonic() > deadline

    def exercise(self, case: Any) -> None:
        """One generated case: send it, then run the built-in and the project checks."""
        self.admit(case)
        self.send(case)

    def admit(self, case: Any) -> None:
        """Whether the case may still go out (its item's share of the budget), counted as started."""
        if self.out_of_time():
            raise OutOfTime(f"{case.operation.label} used its share of the time budget")
        if self.budget is not None:
            self.budget.case_started()

    def send(self, case: Any) -> None:
        """Send an admitted case and judge the answer; failures are recorded, never raised."""
        operation = self.contract.by_label(case.operation.label)
        headers = self.auth_headers(operation)
        try:
            response = case.call(base_url=self.base_url, session=self.session, headers=headers)
        except requests.RequestException as exc:
            self.unanswered(case, exc)
            return
        observed = self.observe_case(case, response, operation)
        self.validate(case, response, headers, observed)

    def unanswered(self, case: Any, error: requests.RequestException, sender: str = "") -> None:
        """A request for `case` got no usable answer (time-out, reset, a transport limit, a route the
        stall breaker holds back): a failure of P2-CON-008, or an error if 429s kept it from going out.
        `sender` names who sent it when it was not the case itself (a check's own request)."""
        label = case.operation.label
        self.recorder.count_request(label)
        if isinstance(error, RateLimited):
            # Still 429 after every retry: this verified nothing, and failed no rule either.
            self.recorder.error(f"{sender}{label} could not be tested: {error}")
            return
        self.recorder.failed(
            "P2-CON-008",
            "No usable HTTP response",
            f"{sender}{case.method} {case.formatted_path}: {' '.join(str(error).split())[:300]}",
            check="transport",
            operation=label,
        )

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
        # A check's own requests (`check_transport`) leave on the case's session, under its limits.
        session_token = CHECK_SESSION.set(self.session)
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
        finally:
            CHECK_SESSION.reset(session_token)

    def record_builtin_failure(self, failure: StFailure, observed: ObservedResponse) -> None:
        requirement_id, check = getattr(failure, ORIGIN_TAG, ("P2-CON-003", "schemathesis"))
        expected, actual, expected_status = builtin_expectation(failure)
        self.recorder.failed(
            requirement_id,
            failure.title,
            failure.message or failure.title,
            check=f"schemathesis.{check.lstrip('_')}",
            observed=observed,
            expected=expected,
            actual=actual,
            expected_status=expected_status,
        )


def _statuses(values: Any) -> set[int]:
    """Schemathesis' allowed statuses (ints, "404", "4XX") as numbers."""
    statuses: set[int] = set()
    for value in values or ():
        text = str(value).strip().upper()
        if text.isdigit():
            statuses.add(int(text))
        elif len(text) == 3 and text[0].isdigit() and text[1:] == "XX":
            statuses.update(range(int(text[0]) * 100, int(text[0]) * 100 + 100))
    return statuses


def builtin_expectation(failure: StFailure) -> tuple[str | None, str | None, tuple[int, ...]]:
    """Expected and actual of a Schemathesis failure, when its data says them; the statuses that would pass."""
    status = getattr(failure, "status_code", None)
    if isinstance(status, int):
        if isinstance(failure, ServerError):
            return "a status below 500", f"answered {status}", tuple(range(100, 500))
        for name in ("allowed_status_codes", "expected_statuses", "allowed_statuses"):
            allowed = getattr(failure, name, None)
            if allowed:
                statuses = _statuses(allowed)
                wanted = ", ".join(str(value) for value in allowed)
                return f"one of {wanted}", f"answered {status}", tuple(sorted(statuses))
    content_type = getattr(failure, "content_type", None)
    defined = getattr(failure, "defined_content_types", None)
    if isinstance(content_type, str) and defined:
        return f"Content-Type {' or '.join(map(str, defined))}", f"Content-Type {content_type}", ()
    return None, None, ()
