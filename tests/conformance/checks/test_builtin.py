"""Schemathesis' built-in checks: registered through the one decorator, their failures tagged with
the requirement they verify, and a pass reported only where a check had something to judge."""

from __future__ import annotations

import datetime
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.core.failures import FailureGroup

from conformance.checks.builtin import BUILTINS, ORIGIN_TAG, wrapped_builtins
from conformance.checks.registry import REGISTRY, BuiltinCheck
from conformance.contract import load_catalog, load_contract
from conformance.runner.st_tests import operations_by_label

LABEL = "GET /healthz"  # unprotected: the ignored-auth check has nothing to judge here


def _case() -> Any:
    schema = schemathesis.openapi.from_dict(dict(load_contract().raw))
    return operations_by_label(schema)[LABEL].Case()


def _answer(status: int, **content: Any) -> httpx.Response:
    response = httpx.Response(status, request=httpx.Request("GET", "http://127.0.0.1:9/v2/healthz"), **content)
    response.read()
    response.elapsed = datetime.timedelta(0)
    return response


def _validate(response: httpx.Response) -> tuple[list[tuple[str, str]], list[Any]]:
    passes: list[tuple[str, str]] = []
    unanswered: list[str] = []
    checks = wrapped_builtins(
        lambda requirement_id, name, case, answer: passes.append((requirement_id, name)),
        lambda name, case, error: unanswered.append(name),
    )
    try:
        _case().validate_response(response, checks=checks)
    except FailureGroup as group:
        return passes, list(group.exceptions)
    finally:
        # An unprotected operation's case: no check sends a request of its own.
        assert unanswered == []
    return passes, []


def test_every_builtin_is_registered_by_the_decorator_under_its_requirement() -> None:
    registered = {spec.name: spec for spec in REGISTRY.builtins()}
    catalog = load_catalog()
    for builtin in BUILTINS:
        spec = registered[f"schemathesis.{builtin.func.__name__.lstrip('_')}"]
        assert isinstance(spec, BuiltinCheck) and spec.func is builtin.func
        assert spec.requirements == (builtin.requirement_id,) and builtin.requirement_id in catalog
    assert len(registered) == len(BUILTINS)


def test_a_failure_is_tagged_with_its_requirement_and_its_check_reports_no_pass() -> None:
    passes, failures = _validate(_answer(418, text="teapot", headers={"content-type": "text/plain"}))
    assert [getattr(failure, ORIGIN_TAG) for failure in failures] == [("P2-CON-001", "status_code_conformance")]
    assert "P2-CON-001" not in {requirement_id for requirement_id, _ in passes}


@pytest.mark.parametrize(
    ("requirement_id", "why"),
    [
        ("P2-CON-006", "the case is not negative"),
        ("P2-CON-007", "not the coverage phase's missing-parameter case"),
        ("P2-PRO-006", "not the coverage phase's undeclared-method case"),
        ("P2-CON-009", "not a stateful step"),
        ("P2-CON-010", "not a stateful step"),
        ("P2-AUTH-001", "the operation is not protected"),
    ],
)
def test_a_check_with_nothing_to_judge_reports_no_pass(requirement_id: str, why: str) -> None:
    passes, _failures = _validate(_answer(200, json={"status": "ok"}))
    assert requirement_id not in {passed for passed, _ in passes}, why


def test_a_conforming_answer_passes_the_rules_that_always_apply() -> None:
    alive = {"status": "ok", "version": "1.0.0", "uptime_seconds": 3600.5}
    headers = {"x-request-id": "7d1f3c52-0b7e-4a5e-9c1e-2f0a3b4c5d6e", "cache-control": "no-store"}
    passes, failures = _validate(_answer(200, json=alive, headers=headers))
    assert failures == []
    assert {"P2-CON-008", "P2-CON-001", "P2-CON-002", "P2-CON-003", "P2-CON-004"} == {rid for rid, _ in passes}
    assert ("P2-CON-008", "not_a_server_error") in passes  # names as the reports show them
