"""The request-side protocol checks: their helpers, a clean reference run, and the faults they catch."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.classes.protocol.crafted_bodies import TARGETS, put_text
from conformance.classes.protocol.crafted_requests import INVALID_UTF8, _allow_problem
from conformance.client.observed import ObservedResponse
from conformance.contract import load_contract
from tests.conftest import SuiteRun

REQUEST_SIDE = ("P2-PRO-006", "P2-PRO-009", "P2-PRO-010", "P2-PRO-011", "P2-PRO-013")
# The contract exerciser runs beside the protocol class; one example per operation keeps it short.
QUICK = ("--reference", "--profile", "quick", "--max-examples", "1", "--classes", "protocol")


def _requirements(*requirement_ids: str) -> list[str]:
    return [argument for requirement_id in requirement_ids for argument in ("--requirement", requirement_id)]


def _answer(status: int, allow: str | None) -> ObservedResponse:
    headers = {} if allow is None else {"allow": allow}
    return ObservedResponse(None, "PUT", "http://target/v2/worlds", {}, None, status, headers, b"")


def test_every_operation_with_a_body_has_a_target_that_can_make_it_succeed() -> None:
    with_body = {operation.operation_id for operation in load_contract().operations if operation.request_media_types}
    assert with_body == set(TARGETS)


@pytest.mark.parametrize(
    ("status", "allow", "problem"),
    [
        (405, "GET, POST", None),
        (405, "get,post, HEAD, OPTIONS", None),  # HEAD and OPTIONS may always be allowed
        (404, None, "answered 404, not 405"),
        (405, None, "405 without an Allow header"),
        (405, "GET", "missing POST"),
        (405, "GET, POST, DELETE", "undeclared DELETE"),
    ],
)
def test_allow_must_list_exactly_the_declared_methods(status: int, allow: str | None, problem: str | None) -> None:
    found = _allow_problem(_answer(status, allow), {"GET", "POST"})
    assert found is None if problem is None else problem in str(found)


def test_the_invalid_utf8_probe_is_not_utf8() -> None:
    with pytest.raises(UnicodeDecodeError):
        INVALID_UTF8.decode("utf-8")


def test_put_text_reaches_nested_fields() -> None:
    assert put_text({"a": 1}, ("parameters", "note"), "x") == {"a": 1, "parameters": {"note": "x"}}


def test_the_reference_passes_the_request_side_checks(run_suite: Callable[..., SuiteRun]) -> None:
    run = run_suite(*QUICK, *_requirements(*REQUEST_SIDE))
    assert run.exit_code == 0, run.stdout + run.stderr
    assert {rid: run.status(rid) for rid in REQUEST_SIDE} == dict.fromkeys(REQUEST_SIDE, "passed")


def test_a_broken_reference_fails_the_request_side_checks(run_suite: Callable[..., SuiteRun]) -> None:
    # Five faults in one server, each breaking one rule; the probes of one do not disturb the others.
    faults = (
        "405-without-allow",
        "no-body-limit",
        "ignore-content-type",
        "accept-unknown-fields",
        "malformed-json-500",
    )
    run = run_suite(
        *QUICK,
        *[arg for fault in faults for arg in ("--reference-fault", fault)],
        *_requirements(*REQUEST_SIDE),
    )
    assert run.exit_code == 1, run.stdout + run.stderr
    assert {rid: run.status(rid) for rid in REQUEST_SIDE} == dict.fromkeys(REQUEST_SIDE, "failed")
