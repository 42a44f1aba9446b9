"""Results are data: everything a reporter may know about a run, and nothing else.

`RunResult` is built once, at the end of a run, from what the recorder collected. Reporters read
it; they never talk to the target. Every string in here has passed through the run's `Redactor`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from conformance.contract.catalog import Level, Requirement

SUMMARY_SCHEMA_VERSION = 1


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_APPLICABLE = "not-applicable"
    WAIVED = "waived"


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    INTERRUPTED = "interrupted"  # a signal (Ctrl-C, SIGTERM, SIGHUP) stopped the run: partial results


class Severity(StrEnum):
    CRITICAL = "critical"  # a MUST of the auth class: a security hole
    MAJOR = "major"  # any other MUST
    MINOR = "minor"  # a SHOULD

    @classmethod
    def of(cls, requirement: Requirement) -> Severity:
        if requirement.level is Level.SHOULD:
            return cls.MINOR
        return cls.CRITICAL if requirement.cls == "auth" else cls.MAJOR


@dataclass(frozen=True)
class RecordedExchange:
    """One request and its response, masked and cut to size."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None
    response_headers: dict[str, str]
    response_body: str | None
    elapsed_ms: float | None = None


@dataclass(frozen=True)
class Step:
    """One request of the sequence that led to a failure, its answer, and what was expected of it.

    Masked like every string of a result. A request body too long to keep inline (or not UTF-8) is
    in `request_body_file`, relative to the report dir, byte for byte; `credential` says which kind
    of token the step sent (`role:primary`, `issuer:expired`, `junk`, `none`, ...) so a replay
    sends a fresh one of the same kind, never the masked one.
    """

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None
    response_headers: dict[str, str]
    response_body: str | None
    expected: str | None = None  # "201 (create a world)"; None: nothing was asked of this step
    credential: str = "none"
    operation_id: str | None = None
    request_body_file: str | None = None


# Path segments that name one resource (uuids, numbers, the suite's p2c- names): not the request's shape.
_VARIABLE_SEGMENT = re.compile(r"^(?:[0-9a-fA-F-]{16,}|[0-9]+|p2c-.*)$")


@dataclass(frozen=True)
class Failure:
    """The target broke a requirement."""

    requirement_id: str
    title: str
    message: str
    severity: Severity
    check: str
    operation: str | None = None  # "GET /worlds/{world_id}"
    exchange: RecordedExchange | None = None
    curl: str | None = None
    test_id: str | None = None  # the pytest node that saw it, for --rerun-failed
    expected: str | None = None  # "401 invalid_token"
    actual: str | None = None  # "answered 200"
    expected_status: tuple[int, ...] = ()  # statuses that would have kept the rule (empty: not a status rule)
    steps: tuple[Step, ...] = ()  # the requests that led to it, the failing one last
    steps_dropped: int = 0  # earlier steps of a long scenario not kept

    @property
    def fingerprint(self) -> tuple[str, str | None, str, str]:
        return (self.requirement_id, self.operation, self.check, self.title)

    @property
    def id(self) -> str:
        """Stable across runs: what failed (requirement, check, title, operation) and the request's shape."""
        shape = ""
        if self.exchange is not None:
            segments = urlsplit(self.exchange.url).path.split("/")
            shape = self.exchange.method + " " + "/".join("{}" if _VARIABLE_SEGMENT.match(s) else s for s in segments)
        material = "\x1f".join((self.requirement_id, self.check, self.title, self.operation or "", shape))
        return f"{self.requirement_id}-{hashlib.sha256(material.encode('utf-8')).hexdigest()[:10]}"

    @property
    def cause(self) -> str:
        """The failure in one line: actual against expected when the check knows both, else its message."""
        if self.actual and self.expected:
            return f"{self.actual}, expected {self.expected}"
        return " ".join(self.message.split())


@dataclass(frozen=True)
class Waiver:
    requirement_id: str
    operation: str | None
    reason: str
    owner: str
    expires: str  # ISO date


@dataclass(frozen=True)
class RequirementResult:
    requirement: Requirement
    status: Status
    evaluations: int = 0
    failures: tuple[Failure, ...] = ()
    reason: str | None = None  # why skipped, not applicable or waived
    operations: tuple[str, ...] = ()
    waiver: Waiver | None = None
    # Seconds the run spent judging it, per operation label ("" for run-wide): each work item's
    # duration shared among the requirement × operation pairs it judged, by evaluations.
    seconds: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def id(self) -> str:
        return self.requirement.id


@dataclass(frozen=True)
class OperationResult:
    operation_id: str
    label: str
    requests: int
    status: Status
    requirements: dict[str, Status]
    failures: tuple[Failure, ...] = ()


@dataclass(frozen=True)
class TestOutcome:
    """One pytest item of the run."""

    test_id: str
    name: str
    outcome: str  # passed, failed, skipped, error
    duration: float
    requirements: tuple[str, ...] = ()
    message: str | None = None
    started: float | None = None  # seconds after the run's items began (the CLI face; None in pytest's)
    waited: float | None = None  # seconds it waited to start (for an exclusive item, or for one)


@dataclass(frozen=True)
class StaleWaiver:
    waiver: Waiver
    reason: str  # "expired" or "matches nothing"


@dataclass(frozen=True)
class Unverified:
    """A selected MUST the run could not verify, and why (usually how to make it verifiable)."""

    requirement_id: str
    reason: str

    def __str__(self) -> str:
        return f"{self.requirement_id} ({self.reason})"


@dataclass(frozen=True)
class RateLimitCounts:
    """How the target rate-limited the run: 429s received, retried, given up, and the time waited."""

    answers: int = 0
    retries: int = 0
    given_up: int = 0
    waited_seconds: float = 0.0


@dataclass(frozen=True)
class RunResult:
    run_id: str
    suite_version: str
    contract_sha256: str
    catalog_version: int
    target: str
    reference: bool
    profile: str
    seed: int
    feature_flags: tuple[str, ...]
    classes: tuple[str, ...]
    fail_on: str
    started_at: str
    finished_at: str
    duration_seconds: float
    verdict: Verdict
    exit_code: int
    requirements: tuple[RequirementResult, ...]
    operations: tuple[OperationResult, ...]
    tests: tuple[TestOutcome, ...]
    errors: tuple[str, ...] = ()
    requests_sent: int = 0
    rate_limits: RateLimitCounts = field(default_factory=lambda: RateLimitCounts())
    stale_waivers: tuple[StaleWaiver, ...] = ()
    settings_sources: dict[str, str] = field(default_factory=dict)
    unverified: tuple[Unverified, ...] = ()  # selected MUSTs left not-applicable or unevaluated
    require_all: bool = False  # a certification run: an unverified MUST fails the gate
    interrupted_by: str | None = None  # the signal's name, e.g. SIGTERM

    @property
    def headline(self) -> str:
        """The verdict in words, as every reporter shows it: never 'conforms' while a MUST went unverified."""
        word = self.verdict.value.upper()
        if self.verdict is Verdict.INTERRUPTED:
            return f"{word} by {self.interrupted_by or 'a signal'}: partial results, no verdict"
        count = len(self.unverified)
        musts = f"{count} MUST{'s' if count != 1 else ''}"
        named = "; ".join(str(u) for u in self.unverified)
        if self.unverified and self.verdict is Verdict.PASS:
            return f"{word} with {musts} unverified: {named}"
        if self.unverified and self.verdict is Verdict.FAIL and self.require_all:
            return f"{word}: {musts} unverified under --require-all: {named}"
        # A failure or an error already says the target is not shown to conform; the report lists why.
        return word

    def failures(self) -> Iterator[Failure]:
        for requirement in self.requirements:
            yield from requirement.failures

    def count(self, status: Status) -> int:
        return sum(1 for r in self.requirements if r.status is status)

    @property
    def counts(self) -> dict[str, int]:
        return {status.value: self.count(status) for status in Status}
