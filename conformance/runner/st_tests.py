"""Schemathesis' tests without pytest: one Hypothesis test per operation, and the stateful run.

Why a module-private import: Schemathesis 4 has no public call that turns one `APIOperation` into
the Hypothesis test of its enabled phases (examples, coverage, fuzzing) with the operation's own
seed. Its pytest plugin uses `schemathesis.pytest._test_builder.build_operation_test` for exactly
that (and its engine the `create_test` beneath it); using the same builder gives the same cases
per operation as `@schema.parametrize()` did, whichever thread runs them. This module is the one
place that reaches into it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import hypothesis
import requests

from conformance.runner.judge import ContractExerciser, OutOfTime
from conformance.settings import Settings

MAX_RESTARTS = 3


def contract_schema(settings: Settings) -> Any:
    """The Schemathesis schema of a run: the contract's operations the contract items cover, or None.

    The base URL may not be known yet (the reference starts later); every call passes the
    session's base URL explicitly."""
    import schemathesis
    from schemathesis.config import SchemathesisConfig

    from conformance.contract import load_contract
    from conformance.runner.check_transport import route_check_requests
    from conformance.runner.plan import CONTRACT_CLASSES
    from conformance.runner.st_config import enabled_operations, schemathesis_config

    if not CONTRACT_CLASSES & settings.classes:
        return None
    contract = load_contract()
    wanted = {op.operation_id for op in enabled_operations(settings, contract)}
    if not wanted:
        return None
    config = SchemathesisConfig.from_dict(schemathesis_config(settings, settings.base_url or "http://127.0.0.1:1/v2"))
    schema = route_check_requests(schemathesis.openapi.from_path(contract.path, config=config))
    return schema.include(operation_id=sorted(wanted))


def operations_by_label(schema: Any) -> dict[str, Any]:
    """The schema's operations by label; an operation Schemathesis cannot load maps to its error."""
    found: dict[str, Any] = {}
    for result in schema.get_all_operations():
        operation = result.ok() if hasattr(result, "ok") else None
        if operation is not None:
            found[operation.label] = operation
    return found


def operation_test(schema: Any, operation: Any, exercise: Callable[[Any], None]) -> Callable[[], None]:
    """The Hypothesis test of one operation: every enabled phase, seeded by the operation's label."""
    from schemathesis.generation.feedback import FeedbackSources
    from schemathesis.pytest._test_builder import build_operation_test

    def test(case: Any) -> None:
        exercise(case)

    built: Callable[[], None] = build_operation_test(
        config=schema.config,
        operation=operation,
        test_func=test,
        given_kwargs={},
        feedback=FeedbackSources(),
    )
    return built


def run_stateful(schema: Any, exerciser: ContractExerciser, seed: int, examples: int, steps: int) -> None:
    """Stateful sequences over the contract's links (create → get → update → delete, start → stop).

    Raises `OutOfTime` when the item's share of the budget ran out."""
    contract = exerciser.contract
    completed = 0

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def call(self, case: Any, **kwargs: Any) -> Any:
            if exerciser.out_of_time():
                raise OutOfTime("the stateful phase used its share of the time budget")
            operation = contract.by_label(case.operation.label)
            try:
                return case.call(
                    base_url=exerciser.base_url,
                    session=exerciser.session,
                    headers=exerciser.auth_headers(operation),
                )
            except requests.RequestException as exc:
                # Judged like a unit case's (P2-CON-008, the stall breaker's count); the sequence
                # cannot go on without the answer, so it is dropped and the next one starts.
                exerciser.unanswered(case, exc)
                hypothesis.reject()

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
        # Hypothesis' public seed decorator applies to a state machine class as to a test function:
        # run_state_machine_as_test copies it onto the test it builds.
        hypothesis.seed(seed + attempt)(Machine)
        try:
            Machine.run(
                settings=hypothesis.settings(
                    max_examples=max(examples - completed, 1),
                    stateful_step_count=steps,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(hypothesis.HealthCheck),
                    phases=[hypothesis.Phase.generate],
                )
            )
        except hypothesis.errors.Unsatisfiable:
            break  # every sequence was dropped on a request without answer: each is recorded
        except hypothesis.errors.Flaky:
            if completed >= examples:
                break
            continue
        break
