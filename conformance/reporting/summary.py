"""`summary.json`: the stable, versioned, machine-readable result of a run.

The schema is `summary.schema.json` next to this module; `schema_version` changes only when a
field changes meaning or disappears (adding fields keeps the version).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from conformance.reporting import ReportContext
from conformance.results import SUMMARY_SCHEMA_VERSION, Failure, RequirementResult, RunResult, Status

FILENAME = "summary.json"


def failure_document(failure: Failure) -> dict[str, Any]:
    document = asdict(failure)
    document["severity"] = failure.severity.value
    document["id"] = failure.id
    document["cause"] = failure.cause
    document["expected_status"] = list(failure.expected_status)
    return document


def requirement_document(result: RequirementResult) -> dict[str, Any]:
    requirement = result.requirement
    return {
        "status": result.status.value,
        "level": requirement.level.value,
        "class": requirement.cls,
        "statement": requirement.statement,
        "reference": requirement.reference,
        "troubleshooting": requirement.troubleshooting,
        "evaluations": result.evaluations,
        "reason": result.reason,
        "operations": list(result.operations),
        "failures": [failure_document(f) for f in result.failures],
        "waiver": asdict(result.waiver) if result.waiver else None,
    }


def summary_document(result: RunResult) -> dict[str, Any]:
    tests: dict[str, int] = {}
    for test in result.tests:
        tests[test.outcome] = tests.get(test.outcome, 0) + 1
    return {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "run_id": result.run_id,
        "suite_version": result.suite_version,
        "verdict": result.verdict.value,
        "headline": result.headline,
        "exit_code": result.exit_code,
        "require_all": result.require_all,
        "unverified": [{"requirement_id": u.requirement_id, "reason": u.reason} for u in result.unverified],
        "target": {"base_url": result.target, "reference": result.reference},
        "contract": {"sha256": result.contract_sha256, "catalog_version": result.catalog_version},
        "profile": result.profile,
        "seed": result.seed,
        "feature_flags": list(result.feature_flags),
        "classes": list(result.classes),
        "fail_on": result.fail_on,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "duration_seconds": result.duration_seconds,
        "counts": {
            "requirements": {status.value: result.count(status) for status in Status},
            "tests": tests,
            "requests": result.requests_sent,
            "failures": sum(1 for _ in result.failures()),
            "rate_limited": asdict(result.rate_limits),
        },
        "requirements": {r.id: requirement_document(r) for r in result.requirements},
        "operations": {
            o.operation_id: {
                "label": o.label,
                "status": o.status.value,
                "requests": o.requests,
                "requirements": {rid: status.value for rid, status in o.requirements.items()},
                "failures": [failure_document(f) for f in o.failures],
            }
            for o in result.operations
        },
        "errors": list(result.errors),
        "stale_waivers": [{**asdict(s.waiver), "reason": s.reason} for s in result.stale_waivers],
        "tests": [asdict(t) for t in result.tests],
    }


class SummaryReporter:
    name = "summary"

    def write(self, result: RunResult, context: ReportContext) -> Path:
        path = context.directory / FILENAME
        path.write_text(json.dumps(summary_document(result), indent=2) + "\n", encoding="utf-8")
        return path
