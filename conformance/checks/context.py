"""What a check is handed: one response to judge, or the means to drive a scenario."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, NoReturn

from conformance.checks.registry import ScenarioCheck
from conformance.client import step_log
from conformance.client.api_client import ApiClient
from conformance.client.observed import ObservedResponse
from conformance.contract.spec import Contract
from conformance.recorder import Recorder
from conformance.settings import Settings

_names = itertools.count(1)


def statuses_text(statuses: Collection[int]) -> str:
    """`412`, `200 or 204`, or `2xx` for the whole class."""
    ordered = sorted(statuses)
    if len(ordered) > 3 and ordered == list(range(ordered[0], ordered[0] + 100)) and ordered[0] % 100 == 0:
        return f"{ordered[0] // 100}xx"
    return " or ".join(str(status) for status in ordered)


class Blocked(Exception):
    """The target broke a precondition of a scenario, so its rule could not be verified."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class RunResources:
    """Protocol parts a run may provide; scenarios that need a missing one are not applicable."""

    test_issuer: Any = None  # conformance.peers.token_issuer.TestIssuer
    otlp: Any = None  # conformance.peers.otlp_receiver.OtlpReceiver
    controls_url: str | None = None  # the reference's test-only control endpoint
    outage: Any = None  # conformance.client.outage_hooks.Outage: takes a component away and back
    state: dict[str, Any] = field(default_factory=dict)  # shared by response checks across a run

    def has(self, need: str) -> bool:
        return {
            "test-issuer": self.test_issuer is not None,
            "otlp": self.otlp is not None,
            "controls": self.controls_url is not None,
            "outage": self.outage is not None,
        }.get(need, True)


@dataclass
class ResponseContext:
    response: ObservedResponse
    contract: Contract
    state: dict[str, Any]
    # What several checks of this one response derive alike (its schema errors), computed once.
    derived: dict[str, Any] = field(default_factory=dict)

    @property
    def operation_id(self) -> str | None:
        return self.response.operation.operation_id if self.response.operation else None


class ScenarioContext:
    def __init__(
        self,
        spec: ScenarioCheck,
        api: ApiClient,
        settings: Settings,
        contract: Contract,
        recorder: Recorder,
        resources: RunResources,
        deadline: float,
    ) -> None:
        self.spec = spec
        self.api = api
        self.settings = settings
        self.contract = contract
        self.recorder = recorder
        self.resources = resources
        self.deadline = deadline
        self._cleanups: list[Callable[[], Any]] = []

    # --- reporting ----------------------------------------------------------------------------
    def _own(self, requirement_id: str) -> None:
        if requirement_id not in self.spec.verifies:
            # A traffic generator verifies nothing: the response checks judge what it sends.
            raise ValueError(f"check {self.spec.name} reports {requirement_id}, which it does not verify")

    def passed(self, requirement_id: str, operation: str | None = None) -> None:
        self._own(requirement_id)
        self.recorder.passed(requirement_id, operation)

    def fail(
        self,
        requirement_id: str,
        title: str,
        message: str = "",
        response: ObservedResponse | None = None,
        operation: str | None = None,
        *,
        expected: str | None = None,
        actual: str | None = None,
        expected_status: Collection[int] = (),
    ) -> None:
        """Record a failure; `expected`/`actual` say it in one line, `expected_status` when the rule is the status."""
        self._own(requirement_id)
        self.recorder.failed(
            requirement_id,
            title,
            message or title,
            check=self.spec.name,
            observed=response,
            operation=operation,
            expected=expected,
            actual=actual,
            expected_status=expected_status,
        )

    def check(
        self,
        requirement_id: str,
        holds: bool,
        title: str,
        message: str = "",
        response: ObservedResponse | None = None,
        operation: str | None = None,
        *,
        expected: str | None = None,
        actual: str | None = None,
        expected_status: Collection[int] = (),
    ) -> bool:
        """Record whether the rule held here; returns `holds` so callers can stop early."""
        if holds:
            op = operation or (response.operation.label if response and response.operation else None)
            self.passed(requirement_id, op)
        else:
            self.fail(
                requirement_id,
                title,
                message,
                response,
                operation,
                expected=expected,
                actual=actual,
                expected_status=expected_status,
            )
        return holds

    def not_applicable(self, requirement_id: str, reason: str) -> None:
        self._own(requirement_id)
        self.recorder.mark_not_applicable(requirement_id, reason)

    def blocked(self, reason: str) -> NoReturn:
        raise Blocked(reason)

    def require(self, response: ObservedResponse, statuses: Collection[int], what: str) -> ObservedResponse:
        """Stop the scenario (blocked) when a precondition call did not succeed."""
        log = step_log.current()
        if log is not None:
            log.expect(response, f"{statuses_text(statuses)} ({what})")
        if response.status not in statuses:
            detail = response.text()[:200]
            self.blocked(f"{what}: {response.method} {response.path} answered {response.status} {detail}")
        return response

    # --- helpers ------------------------------------------------------------------------------
    def unique_name(self, prefix: str = "p2c") -> str:
        """A world name no other run or scenario uses (fits the contract's WorldName pattern)."""
        return f"{prefix}-{self.settings.run_id[-6:]}-{self.spec.name[:20]}-{next(_names)}"

    def on_cleanup(self, action: Callable[[], Any]) -> None:
        self._cleanups.append(action)

    def run_cleanups(self) -> None:
        while self._cleanups:
            action = self._cleanups.pop()
            try:
                action()
            except Exception as exc:
                self.recorder.error(f"cleanup after {self.spec.name} failed: {exc}")

    @property
    def time_left(self) -> float:
        return self.deadline - time.monotonic()
