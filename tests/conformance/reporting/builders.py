"""Hand-built runs for the reporter tests: a real catalog, contract, recorder and outcome builder,
with failures whose responses a hostile target wrote."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from conformance.client.observed import ObservedResponse
from conformance.client.secrets import Redactor
from conformance.contract import load_catalog, load_contract
from conformance.contract.files import fixtures_dir
from conformance.recorder import Recorder
from conformance.results import RunResult, TestOutcome, Waiver
from conformance.runner.outcome import RunFacts, build_result
from conformance.settings import load_settings

TODAY = date(2026, 1, 15)
BASE_URL = "http://127.0.0.1:8123/v2"
# What a hostile target might answer: markup, script, CDATA end, XML-illegal control characters.
HOSTILE_BODY = (
    '{"detail": "</script><script>document.title=\'pwned\'</script>'
    '<img src=x onerror=alert(1)> ]]> & \x1b[31m \x00 \x07 end"}'
)
ACCESS_TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QifQ.eyJzdWIiOiJ0ZW5hbnQtYSJ9.c2lnbmF0dXJlLXRoYXQtbXVzdC1oaWRl"


def client_secrets() -> list[str]:
    clients = yaml.safe_load((fixtures_dir() / "clients.yaml").read_text(encoding="utf-8"))["clients"]
    return [str(c["client_secret"]) for c in clients]


def observed(
    label: str,
    *,
    status: int = 200,
    body: str = HOSTILE_BODY,
    path: str | None = None,
    request_body: bytes | None = None,
) -> ObservedResponse:
    contract = load_contract()
    operation = contract.by_label(label)
    assert operation is not None, label
    method, template = label.split(" ", 1)
    url = BASE_URL + (path or template.replace("{world_id}", "w-1").replace("{runtime_id}", "r-1"))
    secret = client_secrets()[0]
    return ObservedResponse(
        operation=operation,
        method=method,
        url=url,
        request_headers={
            "Authorization": f"Bearer {ACCESS_TOKEN}",
            "Cookie": "session=s3cr3t-cookie-value",
            "Accept": "application/json",
            "X-Request-ID": "req-123",
        },
        request_body=request_body,
        status=status,
        headers={
            "content-type": "text/html",
            "set-cookie": "session=another-cookie",
            "x-leak": f"client_secret={secret}",
        },
        body=body.encode("utf-8") + f" refresh_token={secret} token {ACCESS_TOKEN}".encode(),
    )


@dataclass
class Scenario:
    """What the checks saw; `build` turns it into a `RunResult` like a run would."""

    fail_on: str = "must"
    classes: tuple[str, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    today: date = TODAY
    pass_everything_else: bool = True
    # requirement, operation label (None: run-wide), title
    failures: Sequence[tuple[str, str | None, str]] = field(default_factory=list)
    not_applicable: dict[str, str] = field(default_factory=dict)
    require_all: bool = False
    unevaluated: tuple[str, ...] = ()  # requirements no check reached
    blocked: dict[str, str] = field(default_factory=dict)  # requirement → why its scenario could not run
    interrupted_by: int | None = None  # a signal number
    tests: tuple[TestOutcome, ...] = (
        TestOutcome("test_contract.py::test_contract", "test_contract", "failed", 3.5, (), "nonconformance"),
        TestOutcome("test_scenarios.py::test_scenario[check_etag]", "test_scenario[check_etag]", "passed", 0.4),
        TestOutcome(
            "test_stateful.py::test_stateful",
            "test_stateful",
            "skipped",
            0.0,
            (),
            "the quick profile has no stateful",
        ),
    )

    def build(self, report_dir: Path | None = None) -> RunResult:
        catalog = load_catalog()
        contract = load_contract()
        values: dict[str, Any] = {
            "reference": True,
            "profile": "quick",
            "fail_on": self.fail_on,
            "require_all": self.require_all,
        }
        if self.classes:
            values["classes"] = ",".join(self.classes)
        if report_dir is not None:
            values["report_dir"] = str(report_dir)
        settings = load_settings(values, env={}).with_base_url(BASE_URL)
        redactor = Redactor([*settings.secrets(), ACCESS_TOKEN])
        recorder = Recorder(catalog, redactor)
        failing = {rid for rid, _, _ in self.failures}
        for requirement in catalog:
            skipped = (*self.not_applicable, *self.unevaluated, *self.blocked)
            if requirement.cls not in settings.classes or requirement.id in skipped:
                continue
            if self.pass_everything_else or requirement.id in failing:
                if not requirement.operations:
                    recorder.passed(requirement.id)  # a run-wide rule, judged by a scenario
                    continue
                operation_id = "listWorlds" if "*" in requirement.operations else requirement.operations[0]
                judged = contract.operation(operation_id).label
                recorder.passed(requirement.id, judged)
                recorder.count_request(judged)
        for requirement_id, label, title in self.failures:
            token = recorder.bind_test("test_contract.py::test_contract")
            try:
                recorder.failed(
                    requirement_id,
                    title,
                    f"{title}: the target answered {HOSTILE_BODY}",
                    check="check_sample",
                    observed=observed(label) if label else None,
                    operation=label,
                )
            finally:
                recorder.unbind_test(token)
        for requirement_id, reason in self.not_applicable.items():
            recorder.mark_not_applicable(requirement_id, reason)
        for requirement_id, reason in self.blocked.items():
            recorder.mark_blocked(requirement_id, reason)
        started = datetime(2026, 1, 15, 10, 0, 0, tzinfo=UTC)
        facts = RunFacts(started, started + timedelta(seconds=42.5), self.tests, interrupted_by=self.interrupted_by)
        return build_result(settings, contract, catalog, recorder, facts, self.waivers, today=self.today)


def waiver(requirement_id: str, operation: str | None = None, expires: str = "2026-06-30") -> Waiver:
    return Waiver(requirement_id, operation, "known proxy bug <b>fix</b> in 2.3", "platform-team", expires)


def failing_run(report_dir: Path | None = None, *, waivers: Iterable[Waiver] = (), fail_on: str = "must") -> RunResult:
    """A MUST failure with a hostile response, a waived failure, a SHOULD failure, a not-applicable."""
    return Scenario(
        fail_on=fail_on,
        waivers=tuple(waivers) or (waiver("P2-PRO-004", "GET /engine"), waiver("P2-AUTH-003", expires="2026-02-01")),
        failures=[
            ("P2-CON-003", "GET /worlds/{world_id}", "Response violates schema <World>"),
            ("P2-PRO-004", "GET /engine", "X-Request-ID missing"),
            ("P2-SEM-014", "GET /worlds", "No cache validator"),
        ],
        not_applicable={"P2-TEL-002": "the target exports no traces (OTLP endpoint not configured)"},
    ).build(report_dir)


def passing_run(report_dir: Path | None = None) -> RunResult:
    return Scenario(tests=(TestOutcome("test_contract.py::test_contract", "test_contract", "passed", 1.0),)).build(
        report_dir
    )


ETAG_CAUSE = "getWorld answered without a world and its ETag"


def blocked_run(same_cause: int = 29, other_causes: int = 12) -> RunResult:
    """A run whose errors are `same_cause` requirements left unverified by one missing ETag, and
    `other_causes` errors of causes of their own: what a report must lead with, and count whole."""
    musts = [r.id for r in load_catalog() if r.level.value == "MUST"]
    assert len(musts) >= same_cause + other_causes
    blocked = {
        rid: f"check_step_{i} could not run: read the new world: {ETAG_CAUSE}"
        for i, rid in enumerate(musts[:same_cause])
    }
    for i, rid in enumerate(musts[same_cause : same_cause + other_causes]):
        blocked[rid] = f"check_other_{i}: the target did not answer properly: ReadTimeout after {i + 1}s"
    return Scenario(blocked=blocked).build()
