"""The scenario's step log: bounded, cut at the failing step, credentials named by kind only; the
failure built from it carries its steps and an id that does not depend on the ids a run made up."""

from __future__ import annotations

import uuid

from conformance.client import step_log
from conformance.client.observed import ObservedResponse
from conformance.client.secrets import Redactor
from conformance.contract import load_catalog
from conformance.peers.token_issuer import KINDS, TestIssuer
from conformance.recorder import Recorder
from tests.conformance.client.answers import answer


def observed(method: str, path: str, status: int, body: bytes = b"{}") -> ObservedResponse:
    label = "GET /worlds/{world_id}" if method == "GET" else "PATCH /worlds/{world_id}"
    return answer(label, status, headers={"etag": '"1"'}, body=body, path=path)


def test_the_log_keeps_the_last_steps_and_counts_the_rest() -> None:
    log = step_log.StepLog(max_steps=3)
    responses = [observed("GET", f"/worlds/{n}", 200) for n in range(5)]
    for response in responses:
        log.add(response, "role:primary")
    kept, dropped = log.upto(responses[3])
    assert [step.observed for step in kept] == responses[2:4]
    assert dropped == 2


def test_credentials_are_named_by_kind() -> None:
    assert step_log.credential_kind(None, "read-only", "worlds:read") == "role:read-only:worlds:read"
    assert step_log.credential_kind("", "primary", None) == "none"
    assert step_log.credential_kind(f"never-noted-{uuid.uuid4()}", "primary", None) == "unknown"
    with TestIssuer() as issuer:
        assert step_log.credential_kind(issuer.expired("t", "worlds:read"), "primary", None) == "issuer:expired"
        for kind in KINDS:
            assert step_log.credential_kind(issuer.mint(kind, "t", "s"), "primary", None) == f"issuer:{kind}"
        assert step_log.credential_kind(issuer.without_scope("t"), "primary", None) == "issuer:without-scope"


def test_a_scenario_failure_carries_its_steps_up_to_the_failing_one() -> None:
    recorder = Recorder(load_catalog(), Redactor())
    world = f"/worlds/{uuid.uuid4()}"
    with step_log.recording() as log:
        create = observed("GET", world, 200)
        log.add(create, "role:primary")
        log.expect(create, "200 (read the new world)")
        stale = observed("PATCH", world, 200)
        log.add(stale, "role:primary")
        log.add(observed("GET", world, 200), "role:primary")  # after the failing step: not part of it
        failure = recorder.failed(
            "P2-SEM-004",
            "An update with a stale If-Match was not refused with 412",
            "answered 200",
            check="check_stale_if_match",
            observed=stale,
            expected="412",
            actual="answered 200",
            expected_status=(412,),
        )
    assert [(step.method, step.expected) for step in failure.steps] == [
        ("GET", "200 (read the new world)"),
        ("PATCH", "412"),
    ]
    assert failure.cause == "answered 200, expected 412"
    assert failure.expected_status == (412,)


def test_the_failure_id_is_the_same_for_the_same_failure_on_other_data() -> None:
    def failure_on(world_id: str) -> str:
        recorder = Recorder(load_catalog(), Redactor())
        return recorder.failed(
            "P2-PRO-004",
            "Representation without ETag",
            f"{world_id}",
            check="check_etag_matches_version",
            observed=observed("GET", f"/worlds/{world_id}", 200),
        ).id

    first, second = failure_on(str(uuid.uuid4())), failure_on(str(uuid.uuid4()))
    assert first == second and first.startswith("P2-PRO-004-")
    other = Recorder(load_catalog(), Redactor()).failed(
        "P2-PRO-004",
        "ETag does not match the representation's version",
        "m",
        check="check_etag_matches_version",
        observed=observed("GET", f"/worlds/{uuid.uuid4()}", 200),
    )
    assert other.id != first
