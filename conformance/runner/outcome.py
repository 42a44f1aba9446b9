"""From what the recorder collected to a `RunResult`: statuses, waivers, the verdict, the exit code.

Fail closed: a run that tested nothing, evaluated no requirement, lost its token, ran out of time,
or left a selected MUST requirement unevaluated is never a pass. This is the one place that decides
the verdict and the exit code; reporters only render them (`RunResult.headline`).
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from conformance import __version__
from conformance.contract.catalog import Level, Requirement, RequirementCatalog
from conformance.contract.spec import Contract
from conformance.errors import ExitCode
from conformance.recorder import Recorder
from conformance.results import (
    Failure,
    OperationResult,
    RateLimitCounts,
    RequirementResult,
    RunResult,
    StaleWaiver,
    Status,
    TestOutcome,
    Unverified,
    Verdict,
    Waiver,
)
from conformance.settings import Settings
from conformance.waivers import covering, describe, is_expired, matches


@dataclass(frozen=True)
class RunFacts:
    started_at: datetime
    finished_at: datetime
    tests: tuple[TestOutcome, ...]
    target_lost: bool = False  # the target or the auth provider went away mid-run
    interrupted_by: int | None = None  # the signal that stopped the run (SIGINT, SIGTERM, SIGHUP)
    rate_limits: RateLimitCounts = field(default_factory=RateLimitCounts)
    # A shard's run: requirements only other shards' items evaluate (not a gap of this shard).
    elsewhere: frozenset[str] = frozenset()


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


@dataclass
class WaiverUse:
    """Which waivers covered failures, and which expired ones the failures still needed."""

    used: set[Waiver] = field(default_factory=set)
    expired_needed: set[Waiver] = field(default_factory=set)


def requirement_results(
    settings: Settings,
    catalog: RequirementCatalog,
    recorder: Recorder,
    waivers: Sequence[Waiver],
    today: date | None = None,
    elsewhere: frozenset[str] = frozenset(),
) -> tuple[tuple[RequirementResult, ...], WaiverUse]:
    results = []
    use = WaiverUse()
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
            results.append(_judge_failures(requirement, count, failures, operations, waivers, use, today))
        elif count:
            results.append(RequirementResult(requirement, Status.PASSED, count, (), None, operations))
        elif requirement.id in recorder.not_applicable:
            reason = recorder.not_applicable[requirement.id]
            results.append(RequirementResult(requirement, Status.NOT_APPLICABLE, reason=reason))
        elif requirement.when_unobserved and requirement.id not in recorder.blocked:
            results.append(RequirementResult(requirement, Status.NOT_APPLICABLE, reason=requirement.when_unobserved))
        elif requirement.id in recorder.blocked:
            reason = recorder.blocked[requirement.id]
            results.append(RequirementResult(requirement, Status.SKIPPED, reason=reason))
        elif requirement.id in elsewhere:
            reason = "evaluated by another shard of this run: merge the shards' reports for its status"
            results.append(RequirementResult(requirement, Status.SKIPPED, reason=reason))
        else:
            reason = "not evaluated: no check reached it in this run"
            results.append(RequirementResult(requirement, Status.SKIPPED, reason=reason))
    return tuple(results), use


def _judge_failures(
    requirement: Requirement,
    count: int,
    failures: tuple[Failure, ...],
    operations: tuple[str, ...],
    waivers: Sequence[Waiver],
    use: WaiverUse,
    today: date | None,
) -> RequirementResult:
    """Waived only when every failure is covered by a waiver still in force.

    Each failure is judged alone, so two waivers for two operations together waive a requirement
    that failed on both; a failure only an expired waiver matches counts as a failure again.
    """
    covers = [covering(failure, waivers, today) for failure in failures]
    in_force = [w for w in covers if w is not None]
    use.used.update(in_force)
    uncovered = [f for f, w in zip(failures, covers, strict=True) if w is None]
    expired = [w for f in uncovered for w in waivers if matches(w, f) and is_expired(w, today)]
    use.expired_needed.update(expired)
    if not uncovered:
        unique = list(dict.fromkeys(in_force))
        reason = "; ".join(describe(w) for w in unique)
        return RequirementResult(requirement, Status.WAIVED, count, failures, reason, operations, unique[0])
    if expired:
        reason = f"waiver expired on {expired[0].expires} (owner {expired[0].owner}): {expired[0].reason}"
        return RequirementResult(requirement, Status.FAILED, count, failures, reason, operations, expired[0])
    partly = None
    if in_force:
        partly = f"{len(failures) - len(uncovered)} of {len(failures)} failures waived; the others are not"
    return RequirementResult(requirement, Status.FAILED, count, failures, partly, operations)


def operation_results(
    contract: Contract,
    requirements: Sequence[RequirementResult],
    recorder: Recorder,
    waivers: Sequence[Waiver] = (),
    today: date | None = None,
) -> tuple[OperationResult, ...]:
    results = []
    for operation in contract.operations:
        statuses: dict[str, Status] = {}
        failures: list[Failure] = []
        for result in requirements:
            own = [f for f in result.failures if f.operation == operation.label]
            if not own and not result.requirement.covers(operation.operation_id):
                # A failure seen on an operation the catalog does not list still shows there.
                continue
            failures.extend(own)
            if own:
                # Judged per operation: a requirement waived on one operation may fail on another.
                waived = all(covering(f, waivers, today) is not None for f in own)
                statuses[result.id] = Status.WAIVED if waived else Status.FAILED
            elif result.status in (Status.PASSED, Status.FAILED, Status.WAIVED):
                statuses[result.id] = Status.PASSED
                if operation.label not in result.operations and "*" in result.requirement.operations:
                    # The requirement was judged elsewhere; this operation gave it nothing to judge.
                    statuses[result.id] = Status.NOT_APPLICABLE
            else:
                statuses[result.id] = result.status
        requests = recorder.requests.get(operation.label, 0)
        if any(s is Status.FAILED for s in statuses.values()):
            status = Status.FAILED
        elif any(s is Status.WAIVED for s in statuses.values()):
            status = Status.WAIVED
        elif requests or any(s is Status.PASSED for s in statuses.values()):
            status = Status.PASSED
        else:
            status = Status.SKIPPED
        label, failed = operation.label, tuple(failures)
        results.append(OperationResult(operation.operation_id, label, requests, status, statuses, failed))
    return tuple(results)


def stale_waivers(
    waivers: Sequence[Waiver],
    requirements: Sequence[RequirementResult],
    use: WaiverUse,
    today: date | None = None,
) -> tuple[StaleWaiver, ...]:
    """Expired waivers, and waivers in force that matched nothing the run judged.

    A waiver for a requirement this run did not judge (class not selected, not evaluated) is not
    stale: a narrower run says nothing about whether it is still needed.
    """
    judged = {r.id for r in requirements if r.status is not Status.SKIPPED}
    stale = [StaleWaiver(w, "expired") for w in waivers if is_expired(w, today)]
    stale += [
        StaleWaiver(w, "matches nothing")
        for w in waivers
        if not is_expired(w, today) and w not in use.used and w.requirement_id in judged
    ]
    return tuple(stale)


def judging_seconds(recorder: Recorder, tests: Sequence[TestOutcome]) -> dict[str, dict[str, float]]:
    """requirement → operation label ("" run-wide) → seconds: each item's measured duration shared
    among the requirement × operation pairs it judged, in proportion to their evaluations."""
    durations: dict[str, float] = {}
    for test in tests:
        durations[test.test_id] = durations.get(test.test_id, 0.0) + test.duration
    judged = dict(recorder.judged_by_item)
    per_item: dict[str, int] = {}
    for (test_id, _, _), count in judged.items():
        per_item[test_id] = per_item.get(test_id, 0) + count
    seconds: dict[str, dict[str, float]] = {}
    for (test_id, requirement_id, operation), count in judged.items():
        share = durations.get(test_id, 0.0) * count / per_item[test_id]
        by_operation = seconds.setdefault(requirement_id, {})
        by_operation[operation] = by_operation.get(operation, 0.0) + share
    return seconds


def _with_seconds(
    requirements: tuple[RequirementResult, ...], seconds: dict[str, dict[str, float]]
) -> tuple[RequirementResult, ...]:
    return tuple(
        replace(r, seconds={op: round(t, 6) for op, t in sorted(seconds[r.id].items())}) if r.id in seconds else r
        for r in requirements
    )


def build_result(
    settings: Settings,
    contract: Contract,
    catalog: RequirementCatalog,
    recorder: Recorder,
    facts: RunFacts,
    waivers: Sequence[Waiver] = (),
    today: date | None = None,
) -> RunResult:
    requirements, use = requirement_results(settings, catalog, recorder, waivers, today, facts.elsewhere)
    stale = stale_waivers(waivers, requirements, use, today)
    gate_levels = {Level.MUST} if settings.fail_on is Level.MUST else {Level.MUST, Level.SHOULD}
    failing = [r for r in requirements if r.status is Status.FAILED and r.requirement.level in gate_levels]
    # An expired waiver a failure still needed fails the gate whatever the level: the acceptance
    # ran out and someone has to decide again.
    expired_in_use = sorted(use.expired_needed, key=lambda w: (w.requirement_id, w.operation or ""))
    unevaluated = [
        r
        for r in requirements
        if r.status is Status.SKIPPED
        and r.id not in facts.elsewhere
        and r.requirement.level is Level.MUST
        and not r.reason.startswith(("class ", "requirement not selected", "none of its operations"))  # type: ignore[union-attr]
    ]
    # A MUST not applicable here (the target lacks a capability) is not verified either: it is named
    # in the headline, and under --require-all it fails the gate.
    unverified = tuple(
        Unverified(r.id, r.reason or "not evaluated")
        for r in requirements
        if r.requirement.level is Level.MUST and (r.status is Status.NOT_APPLICABLE or r in unevaluated)
    )
    errors = list(recorder.errors)
    executed = [t for t in facts.tests if t.outcome != "skipped"]
    if not executed:
        errors.append("no test was executed")
    if not any(r.status in (Status.PASSED, Status.FAILED, Status.WAIVED) for r in requirements):
        errors.append("no requirement was evaluated: nothing this run selected was verified")
    for result in unevaluated:
        errors.append(f"{result.id} ({result.requirement.level}) was not verified: {result.reason}")
    if expired_in_use:
        errors.extend(
            f"waiver for {w.requirement_id}{' on ' + w.operation if w.operation else ''} expired on {w.expires}"
            for w in expired_in_use
        )

    if facts.interrupted_by is not None:
        # Partial results are not a verdict: the shell's convention, 128 + the signal number.
        verdict, exit_code = Verdict.INTERRUPTED, 128 + facts.interrupted_by
        errors.append(f"the run was interrupted by {signal.Signals(facts.interrupted_by).name}")
    elif failing or expired_in_use or (settings.require_all and unverified):
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
        requirements=_with_seconds(requirements, judging_seconds(recorder, facts.tests)),
        operations=operation_results(contract, requirements, recorder, waivers, today),
        tests=facts.tests,
        errors=tuple(recorder.redactor.text(e) for e in errors),
        requests_sent=recorder.requests_sent,
        rate_limits=facts.rate_limits,
        stale_waivers=stale,
        settings_sources=dict(settings.sources),
        unverified=tuple(Unverified(u.requirement_id, recorder.redactor.text(u.reason)) for u in unverified),
        require_all=settings.require_all,
        interrupted_by=signal.Signals(facts.interrupted_by).name if facts.interrupted_by is not None else None,
    )
