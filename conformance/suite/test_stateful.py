"""Stateful sequences over the contract's links (create → get → update → delete, start → stop)."""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest

from conformance.plugin import TIME_SHARE_USED
from conformance.runner.judge import ContractExerciser, OutOfTime
from conformance.runner.session import RunSession

MAX_RESTARTS = 3


def test_stateful(phase2_schema: Any, phase2_session: RunSession) -> None:
    profile = phase2_session.settings.profile
    if phase2_schema is None:
        pytest.skip("no operation to cover: the contract and protocol classes are not selected")
    if "stateful" not in profile.phases or profile.stateful_examples == 0:
        pytest.skip(f"the {profile.name} profile has no stateful phase")
    assert phase2_session.exerciser is not None
    exerciser: ContractExerciser = phase2_session.exerciser  # typed: the nested class closes over it
    contract = phase2_session.contract

    completed = 0

    class Machine(phase2_schema.as_state_machine()):  # type: ignore[misc]
        def call(self, case: Any, **kwargs: Any) -> Any:
            if exerciser.out_of_time():
                raise OutOfTime("the stateful phase used its share of the time budget")
            operation = contract.by_label(case.operation.label)
            return case.call(
                base_url=exerciser.base_url,
                session=exerciser.session,
                headers=exerciser.auth_headers(operation),
            )

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            operation = contract.by_label(case.operation.label)
            observed = exerciser.observe_case(case, response, operation)
            headers = (
                {"Authorization": observed.sent_header("Authorization") or ""}
                if operation and operation.protected
                else {}
            )
            exerciser.validate(case, response, headers, observed, recorder=getattr(self, "recorder", None))

        def teardown(self) -> None:
            nonlocal completed
            completed += 1
            super().teardown()

    # A live server's state moves between Hypothesis' runs (runtimes advance on their own), so a
    # replayed prefix can draw differently; Hypothesis calls that flaky. Like Schemathesis' own
    # engine, go on with a fresh seed for the scenarios still to run, a bounded number of times.
    for attempt in range(MAX_RESTARTS + 1):
        Machine._hypothesis_internal_use_seed = phase2_session.settings.seed + attempt
        try:
            Machine.run(
                settings=hypothesis.settings(
                    max_examples=max(profile.stateful_examples - completed, 1),
                    stateful_step_count=profile.stateful_steps,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(hypothesis.HealthCheck),
                    phases=[hypothesis.Phase.generate],
                )
            )
        except hypothesis.errors.Flaky:
            if completed >= profile.stateful_examples:
                break
            continue
        except OutOfTime as exhausted:
            pytest.skip(f"{TIME_SHARE_USED}: {exhausted}")
        break
