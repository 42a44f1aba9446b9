"""A run from the CLI: prepare the target, run the plan with the executor, write the reports.

No pytest session: the CLI is a thin face of the engine (plan → executor → recorder →
`build_result` → reporters). The pytest plugin is the other face of the same parts.
"""

from __future__ import annotations

from typing import Protocol

from conformance.client.secrets import Redactor
from conformance.errors import AuthError, TargetUnreachable
from conformance.reporting import write_reports
from conformance.results import RunResult, TestOutcome
from conformance.runner.executor import Executor, ItemOutcome, test_outcome
from conformance.runner.merge import write_shard
from conformance.runner.plan import WorkItem
from conformance.runner.session import RunSession
from conformance.runner.shard import plan_for, requirements_elsewhere
from conformance.runner.st_tests import contract_schema
from conformance.settings import Settings


class Progress(Protocol):
    """What the CLI shows while the run goes (`reporting.console.ConsoleProgress`)."""

    def planned(self, total: int) -> None: ...

    def finished(self, test: TestOutcome, time_left: float) -> None: ...


def run(settings: Settings, progress: Progress | None = None, redactor: Redactor | None = None) -> RunResult:
    """Run the suite; raises `Phase2Error` when the target cannot be prepared.

    A target that cannot be reached still gets a report: verdict `error`, with the reason.
    `redactor` is the caller's, so what the caller prints is masked with every token the run got.
    """
    session = RunSession(settings, redactor)
    try:
        session.prepare()
    except (TargetUnreachable, AuthError) as error:
        session.lose_target(error)
        write_reports(session.finish(), session.settings, redactor=session.redactor)
        raise
    except KeyboardInterrupt as error:
        # Stopped while the reference or the helpers were starting: still a report, marked interrupted.
        session.interrupt(error)
        try:
            return write_reports(session.finish(), session.settings, redactor=session.redactor)
        finally:
            session.close()
    try:
        return _run_plan(session, progress)
    finally:
        session.close()


def _run_plan(session: RunSession, progress: Progress | None) -> RunResult:
    settings = session.settings
    executor: Executor | None = None
    try:
        whole, part = plan_for(settings)
        if settings.shard is not None:
            session.elsewhere = requirements_elsewhere(whole, part)
        if progress is not None:
            progress.planned(len(part))
        executor = Executor(session, part, contract_schema(settings))

        def finished(item: WorkItem, outcome: ItemOutcome) -> None:
            test = test_outcome(item, outcome, session.recorder.failures_for_test(item.key), session.waivers)
            session.add_test(test)
            if progress is not None:
                progress.finished(test, session.budget.time_left)

        executor.run_all(finished)
        session.signals.hold()  # the run is finishing: a signal from here on is remembered, not raised
    except KeyboardInterrupt as error:
        session.interrupt(error)
    except Exception as error:
        # A defect of the suite (not of the target): the run is reported, and cannot pass.
        text = " ".join(str(error).split())[:300]
        session.recorder.error(f"the run could not go on: {type(error).__name__}: {text}")
    finally:
        if executor is not None:
            # No item keeps running once the reports are written: stopped, and its thread joined.
            executor.close()
    if session.signals.received is not None and session.interrupted_by is None:
        session.interrupt()
    result = session.finish()
    write_shard(session, result)
    # A broken reporter turns the verdict into an error; the amended result is the run's.
    session.result = write_reports(result, settings, redactor=session.redactor)
    return session.result
