"""From what the recorder collected to a `RunResult`: statuses, waivers, the verdict, the exit code.

Fail closed: a run that tested nothing, lost its token, ran out of time, or left a selected MUST
requirement unevaluated is never a pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from conformance import __version__
from conformance.contract.catalog import Level, Requirement, RequirementCatalog
from conformance.contract.spec import Contract
from conformance.errors import ExitCode
from conformance.recorder import Recorder
from conformance.results import (
    Failure,
    OperationResult,
    RequirementResult,
    RunResult,
    StaleWaiver,
    Status,
    TestOutcome,
    Verdict,
    Waiver,
)
from conformance.settings import Settings
from conformance.waivers import is_expired, matches


@dataclass(frozen=True)
class RunFacts:
    started_at: datetime
    finished_at: datetime
    tests: tuple[TestOutcome, ...]
    target_lost: bool = False  # the target or the auth provider went away mid-run


def _unselected_reason(requirement: Requirement, settings: Settings) -> str | None:
    if requirement.cls not in settings.classes:
        return f"class {requirement.cls} not selected"
    if settings.requirement_filter and requirement.id not in settings.requirement_filter:
        return "requirement not selected"
    if (
        settings.operation_filter
        and "*" not in requirement.operations
        and not set(requirement.operations) & settings.operation_filter
    ):
        return "none of its operations selected"
    return None


def requirement_results(
    settings: Settings, catalog: RequirementCatalog, recorder: Recorder, waivers: Sequence[Waiver]
) -> tuple[tuple[RequirementResult, ...], set[Waiver]]:
    results = []
    used: set[Waiver] = set()
    for requirement in catalog:
        reason = _unselected_reason(requirement, settings)
        evaluations = recorder.evaluations(requirement.id)
        operations = tuple(sorted(op for op in evaluations if op))
        if reason is not None:
            results.append(RequirementResult(requirement, Status.SKIPPED, reason=reason))
            continue
        failures = tuple(recorder.failures_of(requirement.id))
        count = sum(evaluations.values())
        if failures:
            waiver = _waiver_for(failures, waivers)
            if waiver is not None:
                used.add(waiver)
                results.append(
                    RequirementResult(
                        requirement, Status.WAIVED, count, failures, f"waived: {waiver.reason}", operations, waiver
                    )
                )
            else:
                results.append(RequirementResult(requirement, Status.FAILED, count, failures, None, operations))
        elif count:
            results.append(RequirementResult(requirement, Status.PASSED, count, (), None, operations))
        elif requirement.id in recorder.not_applicable:
            results.append(
                RequirementResult(requirement, Status.NOT_APPLICABLE, reason=recorder.not_applicable[requirement.id])
            )
        elif requirement.id in recorder.blocked:
            results.append(RequirementResult(requirement, Status.SKIPPED, reason=recorder.blocked[requirement.id]))
        else:
            results.append(
                RequirementResult(requirement, Status.SKIPPED, reason="not evaluated: no check reached it in this run")
            )
    return tuple(results), used


def _waiver_for(failures: Sequence[Failure], waivers: Sequence[Waiver]) -> Waiver | None:
    """The waiver covering every failure of a requirement, if one does."""
    for waiver in waivers:
        if all(matches(waiver, failure) for failure in failures):
            return waiver
    return None


def operation_results(
    contract: Contract, requirements: Sequence[RequirementResult], recorder: Recorder
) -> tuple[OperationResult, ...]:
    results = []
    for operation in contract.operations:
        statuses: dict[str, Status] = {}
        failures: list[Failure] = []
        for result in requirements:
            if not result.requirement.covers(operation.operation_id):
                continue
            own = [f for f in result.failures if f.operation == operation.label]
            failures.extend(own)
            if result.status in (Status.FAILED, Status.WAIVED):
                statuses[result.id] = result.status if own else Status.PASSED
            else:
                statuses[result.id] = result.status
            if result.status is Status.PASSED and operation.label not in result.operations:
                # The requirement held elsewhere; this operation gave it nothing to judge.
                statuses[result.id] = Status.NOT_APPLICABLE if "*" in result.requirement.operations else Status.PASSED
        requests = recorder.requests.get(operation.label, 0)
        if any(s is Status.FAILED for s in statuses.values()):
            status = Status.FAILED
        elif requests or any(s is Status.PASSED for s in statuses.values()):
            status = Status.PASSED
        else:
            status = Status.SKIPPED
        results.append(
            OperationResult(operation.operation_id, operation.label, requests, status, statuses, tuple(failures))
        )
    return tuple(results)


def build_result(
    settings: Settings,
    contract: Contract,
    catalog: RequirementCatalog,
    recorder: Recorder,
    facts: RunFacts,
    waivers: Sequence[Waiver] = (),
) -> RunResult:
    requirements, used = requirement_results(settings, catalog, recorder, waivers)
    stale = tuple(StaleWaiver(w, "expired") for w in waivers if is_expired(w)) + tuple(
        StaleWaiver(w, "matches nothing") for w in waivers if w not in used and not is_expired(w)
    )
    gate_levels = {Level.MUST} if settings.fail_on is Level.MUST else {Level.MUST, Level.SHOULD}
    failing = [r for r in requirements if r.status is Status.FAILED and r.requirement.level in gate_levels]
    expired_in_use = [s for s in stale if s.reason == "expired" and s.waiver in used]
    # An expired waiver no longer covers its failures.
    failing += [r for r in requirements if r.waiver is not None and is_expired(r.waiver)]
    unevaluated = [
        r
        for r in requirements
        if r.status is Status.SKIPPED
        and r.requirement.level is Level.MUST
        and not r.reason.startswith(("class ", "requirement not selected", "none of its operations"))  # type: ignore[union-attr]
    ]
    errors = list(recorder.errors)
    executed = [t for t in facts.tests if t.outcome != "skipped"]
    if not executed:
        errors.append("no test was executed")
    for result in unevaluated:
        errors.append(f"{result.id} ({result.requirement.level}) was not verified: {result.reason}")
    if expired_in_use:
        errors.extend(f"waiver for {s.waiver.requirement_id} expired on {s.waiver.expires}" for s in expired_in_use)

    if failing or expired_in_use:
        verdict, exit_code = Verdict.FAIL, ExitCode.NONCONFORMANCE
    elif errors:
        verdict = Verdict.ERROR
        exit_code = ExitCode.TARGET if facts.target_lost else ExitCode.NONCONFORMANCE
    else:
        verdict, exit_code = Verdict.PASS, ExitCode.CONFORMS

    return RunResult(
        run_id=settings.run_id,
        suite_version=__version__,
        contract_sha256=contract.sha256,
        catalog_version=catalog.schema_version,
        target=settings.base_url or "(not started)",
        reference=settings.reference,
        profile=settings.profile.name,
        seed=settings.seed,
        feature_flags=tuple(sorted(settings.feature_flags)),
        classes=tuple(sorted(settings.classes)),
        fail_on=settings.fail_on.value.lower(),
        started_at=facts.started_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        finished_at=facts.finished_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        duration_seconds=round((facts.finished_at - facts.started_at).total_seconds(), 3),
        verdict=verdict,
        exit_code=int(exit_code),
        requirements=requirements,
        operations=operation_results(contract, requirements, recorder),
        tests=facts.tests,
        errors=tuple(recorder.redactor.text(e) for e in errors),
        requests_sent=recorder.requests_sent,
        stale_waivers=stale,
        settings_sources=dict(settings.sources),
    )
