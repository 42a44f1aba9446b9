"""Collects every verdict of a run while it happens; `results` turns it into a `RunResult`.

Checks report here, never to a reporter. All request and response data is masked on the way in.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Collection
from contextvars import ContextVar, Token
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from conformance.client import step_log
from conformance.client.observed import ObservedResponse
from conformance.client.reproduction import BodyFolder, build_steps, credential_of, curl_command
from conformance.client.secrets import Redactor
from conformance.contract.catalog import RequirementCatalog
from conformance.results import Failure, RecordedExchange, Severity, Step

MAX_FAILURES_PER_KEY = 3  # distinct failures kept per requirement × operation × check
# The work item running in this thread: items run concurrently, so this is per thread, not per run.
# Each binding names its recorder, so one recorder never sees an item another one bound (two runs in
# one process, as the plugin's own tests make).
_CURRENT_TEST: ContextVar[tuple[object, str | None] | None] = ContextVar("conformance_current_test", default=None)


def _known(cls: type, document: dict[str, Any]) -> dict[str, Any]:
    """The fields of `cls` in an exported document; others (a newer suite's) are ignored."""
    return {item.name: document[item.name] for item in fields(cls) if item.name in document}


@dataclass
class _Tally:
    evaluations: Counter[str]
    failures: dict[tuple[str, str | None, str, str], Failure]
    occurrences: Counter[tuple[str, str | None, str, str]]


class Recorder:
    def __init__(self, catalog: RequirementCatalog, redactor: Redactor, report_dir: Path | None = None) -> None:
        self.catalog = catalog
        self.redactor = redactor
        # Where request bodies too long for a command line are folded (None: kept inline, whole).
        self.report_dir = report_dir
        self._lock = threading.RLock()
        self._tallies: dict[str, _Tally] = defaultdict(lambda: _Tally(Counter(), {}, Counter()))
        self.not_applicable: dict[str, str] = {}
        self.blocked: dict[str, str] = {}
        self.requests: Counter[str] = Counter()
        self.errors: list[str] = []
        self._failures_by_test: dict[str, list[Failure]] = defaultdict(list)
        # (work item, requirement, operation or "") → evaluations: what each item's time was spent on.
        self.judged_by_item: Counter[tuple[str, str, str]] = Counter()

    @property
    def current_test(self) -> str | None:
        """The work item of the calling thread, which the failures it records belong to."""
        binding = _CURRENT_TEST.get()
        return binding[1] if binding is not None and binding[0] is self else None

    def bind_test(self, test_id: str) -> Token[tuple[object, str | None] | None]:
        """Failures recorded from this thread belong to `test_id` until `unbind_test`."""
        return _CURRENT_TEST.set((self, test_id))

    def unbind_test(self, token: Token[tuple[object, str | None] | None]) -> None:
        _CURRENT_TEST.reset(token)

    # --- what checks report -------------------------------------------------------------------
    def passed(self, requirement_id: str, operation: str | None = None) -> None:
        current_test = self.current_test
        with self._lock:
            self._tallies[requirement_id].evaluations[operation or ""] += 1
            if current_test:
                self.judged_by_item[(current_test, requirement_id, operation or "")] += 1

    def failed(
        self,
        requirement_id: str,
        title: str,
        message: str,
        *,
        check: str,
        observed: ObservedResponse | None = None,
        operation: str | None = None,
        expected: str | None = None,
        actual: str | None = None,
        expected_status: Collection[int] = (),
    ) -> Failure:
        """Record a failure; `expected`/`actual` say it in one line ("answered 204" against "401").

        Inside a scenario the failure carries the steps that led to it (from the thread's step
        log); elsewhere the one request it saw. Its reproduction is built from the failing step.
        """
        requirement = self.catalog.get(requirement_id)
        current_test = self.current_test
        if operation is None and observed is not None and observed.operation is not None:
            operation = observed.operation.label
        failure = Failure(
            requirement_id=requirement_id,
            title=self.redactor.text(title),
            message=self.redactor.text(message),
            severity=Severity.of(requirement),
            check=check,
            operation=operation,
            exchange=observed.to_exchange(self.redactor) if observed is not None else None,
            test_id=current_test,
            expected=None if expected is None else self.redactor.text(expected),
            actual=None if actual is None else self.redactor.text(actual),
            expected_status=tuple(sorted(set(expected_status))),
        )
        with self._lock:
            tally = self._tallies[requirement_id]
            tally.evaluations[operation or ""] += 1
            if current_test:
                self.judged_by_item[(current_test, requirement_id, operation or "")] += 1
            key = failure.fingerprint
            tally.occurrences[key] += 1
            same_kind = sum(1 for k in tally.failures if k[:3] == key[:3])
            keep = key not in tally.failures and same_kind < MAX_FAILURES_PER_KEY
        if not keep:
            return failure
        failure = self._with_steps(failure, observed)
        with self._lock:
            tally = self._tallies[requirement_id]
            if key not in tally.failures and sum(1 for k in tally.failures if k[:3] == key[:3]) < MAX_FAILURES_PER_KEY:
                tally.failures[key] = failure
                if current_test:
                    self._failures_by_test[current_test].append(failure)
        return failure

    def _with_steps(self, failure: Failure, observed: ObservedResponse | None) -> Failure:
        """The failure with the steps that led to it, and a curl command for the failing one."""
        log = step_log.current()
        if log is not None:
            if observed is not None and failure.expected:
                log.expect(observed, failure.expected)
            logged, dropped = log.upto(observed)
        elif observed is not None:
            logged, dropped = [step_log.LoggedStep(observed, credential_of(observed), failure.expected)], 0
        else:
            return failure
        folder = BodyFolder(self.report_dir, self.redactor) if self.report_dir is not None else None
        steps = build_steps(logged, self.redactor, folder, failure.id)
        curl = curl_command(steps[-1], self.report_dir) if observed is not None and steps else None
        return replace(failure, steps=steps, steps_dropped=dropped, curl=curl)

    def mark_not_applicable(self, requirement_id: str, reason: str) -> None:
        with self._lock:
            self.not_applicable.setdefault(requirement_id, reason)

    def mark_blocked(self, requirement_id: str, reason: str) -> None:
        current_test = self.current_test
        with self._lock:
            self.blocked.setdefault(requirement_id, self.redactor.text(reason))
            if current_test:
                # The item's time went on trying to reach this rule: it is the rule's time too.
                self.judged_by_item[(current_test, requirement_id, "")] += 1

    def count_request(self, operation: str | None) -> None:
        with self._lock:
            self.requests[operation or "<outside the contract>"] += 1

    def error(self, message: str) -> None:
        with self._lock:
            text = self.redactor.text(message)
            if text not in self.errors:
                self.errors.append(text)

    # --- what the runner reads ----------------------------------------------------------------
    def evaluations(self, requirement_id: str) -> Counter[str]:
        with self._lock:
            return Counter(self._tallies[requirement_id].evaluations) if requirement_id in self._tallies else Counter()

    def failures_of(self, requirement_id: str) -> list[Failure]:
        with self._lock:
            tally = self._tallies.get(requirement_id)
            return list(tally.failures.values()) if tally else []

    def occurrences(self, failure: Failure) -> int:
        with self._lock:
            return self._tallies[failure.requirement_id].occurrences[failure.fingerprint]

    def failures_for_test(self, test_id: str) -> list[Failure]:
        with self._lock:
            return list(self._failures_by_test.get(test_id, ()))

    # --- a shard's raw verdicts, for `runner.merge` -------------------------------------------
    def export(self) -> dict[str, Any]:
        """Everything `build_result` reads, as JSON data (failures with their occurrences)."""
        with self._lock:
            return {
                "evaluations": {rid: dict(tally.evaluations) for rid, tally in self._tallies.items()},
                "failures": [
                    {**asdict(failure), "occurrences": tally.occurrences[key]}
                    for tally in self._tallies.values()
                    for key, failure in tally.failures.items()
                ],
                "not_applicable": dict(self.not_applicable),
                "blocked": dict(self.blocked),
                "requests": dict(self.requests),
                "errors": list(self.errors),
                "judged_by_item": [[*key, count] for key, count in self.judged_by_item.items()],
            }

    def absorb(self, exported: dict[str, Any]) -> None:
        """Add another recorder's export (another shard of the run) to this one's verdicts.

        Raises ValueError or TypeError when the data is not an export."""
        for requirement_id, evaluations in exported["evaluations"].items():
            self.catalog.get(str(requirement_id))
            for operation, count in evaluations.items():
                with self._lock:
                    self._tallies[str(requirement_id)].evaluations[str(operation)] += int(count)
        for document in exported["failures"]:
            exchange = document.get("exchange")
            steps = document.get("steps") or []
            failure = Failure(
                requirement_id=str(document["requirement_id"]),
                title=self.redactor.text(str(document["title"])),
                message=self.redactor.text(str(document["message"])),
                severity=Severity(document["severity"]),
                check=str(document["check"]),
                operation=None if document.get("operation") is None else str(document["operation"]),
                exchange=RecordedExchange(**_known(RecordedExchange, exchange)) if isinstance(exchange, dict) else None,
                curl=None if document.get("curl") is None else self.redactor.text(str(document["curl"])),
                test_id=None if document.get("test_id") is None else str(document["test_id"]),
                expected=None if document.get("expected") is None else self.redactor.text(str(document["expected"])),
                actual=None if document.get("actual") is None else self.redactor.text(str(document["actual"])),
                expected_status=tuple(int(status) for status in document.get("expected_status") or ()),
                steps=tuple(Step(**_known(Step, step)) for step in steps if isinstance(step, dict)),
                steps_dropped=int(document.get("steps_dropped") or 0),
            )
            self.catalog.get(failure.requirement_id)
            with self._lock:
                tally = self._tallies[failure.requirement_id]
                key = failure.fingerprint
                tally.occurrences[key] += int(document.get("occurrences", 1))
                if (
                    key not in tally.failures
                    and sum(1 for k in tally.failures if k[:3] == key[:3]) < MAX_FAILURES_PER_KEY
                ):
                    tally.failures[key] = failure
        for requirement_id, reason in exported["not_applicable"].items():
            self.mark_not_applicable(str(requirement_id), str(reason))
        for requirement_id, reason in exported["blocked"].items():
            self.mark_blocked(str(requirement_id), str(reason))
        for operation, count in exported["requests"].items():
            with self._lock:
                self.requests[str(operation)] += int(count)
        for message in exported["errors"]:
            self.error(str(message))
        for test_id, requirement_id, operation, count in exported.get("judged_by_item", []):
            with self._lock:
                self.judged_by_item[(str(test_id), str(requirement_id), str(operation))] += int(count)

    @property
    def requests_sent(self) -> int:
        return sum(self.requests.values())
