"""The recorder: verdicts per requirement, failures kept per kind, masking on the way in, shards merged."""

from __future__ import annotations

import json
import threading

import pytest

from conformance.client.secrets import Redactor
from conformance.contract import load_catalog
from conformance.recorder import MAX_FAILURES_PER_KEY, Recorder
from conformance.results import Severity
from tests.conformance.reporting.builders import ACCESS_TOKEN, client_secrets, observed

SECRET = "a-client-secret-of-the-run-4711"


def _recorder() -> Recorder:
    return Recorder(load_catalog(), Redactor([SECRET, ACCESS_TOKEN, *client_secrets()]))


def test_passes_and_failures_are_evaluations_of_their_operation() -> None:
    recorder = _recorder()
    recorder.passed("P2-PRO-001", "GET /worlds")
    recorder.passed("P2-PRO-001", "GET /worlds")
    recorder.passed("P2-PRO-001")
    recorder.failed("P2-PRO-001", "no problem+json", "text/html", check="check_x", observed=observed("GET /worlds"))
    assert recorder.evaluations("P2-PRO-001") == {"GET /worlds": 3, "": 1}
    assert recorder.evaluations("P2-PRO-002") == {}
    [failure] = recorder.failures_of("P2-PRO-001")
    assert failure.operation == "GET /worlds"  # taken from the response when not given
    assert failure.severity is Severity.of(load_catalog().get("P2-PRO-001"))


def test_a_failure_is_masked_before_it_is_kept() -> None:
    recorder = _recorder()
    failure = recorder.failed(
        "P2-PRO-001", f"leaked {SECRET}", f"body had {SECRET}", check="check_x", observed=observed("GET /worlds")
    )
    kept = json.dumps(recorder.export())
    for secret in (SECRET, ACCESS_TOKEN, *client_secrets()):
        assert secret not in kept
    assert SECRET not in failure.title and failure.curl is not None and ACCESS_TOKEN not in failure.curl
    recorder.error(f"crashed with {SECRET}")
    recorder.mark_blocked("P2-SEM-001", f"token {SECRET} refused")
    assert SECRET not in recorder.errors[0] and SECRET not in recorder.blocked["P2-SEM-001"]


def test_repeats_are_counted_and_each_kind_keeps_a_few_distinct_failures() -> None:
    recorder = _recorder()
    for _ in range(5):
        recorder.failed("P2-PRO-001", "same title", "m", check="check_x", operation="GET /worlds")
    for n in range(MAX_FAILURES_PER_KEY + 4):
        recorder.failed("P2-PRO-001", f"title {n}", "m", check="check_y", operation="GET /worlds")
    kept = recorder.failures_of("P2-PRO-001")
    same = [failure for failure in kept if failure.check == "check_x"]
    assert len(same) == 1 and recorder.occurrences(same[0]) == 5
    assert len([failure for failure in kept if failure.check == "check_y"]) == MAX_FAILURES_PER_KEY
    assert sum(recorder.evaluations("P2-PRO-001").values()) == 5 + MAX_FAILURES_PER_KEY + 4


def test_an_unknown_requirement_is_refused() -> None:
    with pytest.raises(KeyError):
        _recorder().failed("P2-NOPE-001", "t", "m", check="check_x")


def test_the_first_reason_wins() -> None:
    recorder = _recorder()
    recorder.mark_not_applicable("P2-AUTH-003", "no test issuer")
    recorder.mark_not_applicable("P2-AUTH-003", "something later")
    recorder.mark_blocked("P2-SEM-001", "first")
    recorder.mark_blocked("P2-SEM-001", "second")
    recorder.error("same")
    recorder.error("same")
    assert recorder.not_applicable == {"P2-AUTH-003": "no test issuer"}
    assert recorder.blocked == {"P2-SEM-001": "first"}
    assert recorder.errors == ["same"]


def test_failures_belong_to_the_item_bound_in_their_thread() -> None:
    recorder = _recorder()
    other = _recorder()
    seen: dict[str, str | None] = {}

    def item(test_id: str) -> None:
        token = recorder.bind_test(test_id)
        try:
            seen[test_id] = recorder.current_test
            seen[f"other-{test_id}"] = other.current_test  # a binding names its recorder
            recorder.failed("P2-PRO-001", f"from {test_id}", "m", check=f"check_{test_id}")
        finally:
            recorder.unbind_test(token)

    threads = [threading.Thread(target=item, args=(f"item-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n in range(4):
        assert seen[f"item-{n}"] == f"item-{n}" and seen[f"other-item-{n}"] is None
        assert [failure.title for failure in recorder.failures_for_test(f"item-{n}")] == [f"from item-{n}"]
    assert recorder.current_test is None


def test_requests_are_counted_per_operation() -> None:
    recorder = _recorder()
    recorder.count_request("GET /worlds")
    recorder.count_request("GET /worlds")
    recorder.count_request(None)
    assert recorder.requests == {"GET /worlds": 2, "<outside the contract>": 1}
    assert recorder.requests_sent == 3


def test_an_export_absorbed_by_another_recorder_gives_the_same_verdicts() -> None:
    shard = _recorder()
    shard.passed("P2-PRO-001", "GET /worlds")
    for _ in range(3):
        shard.failed("P2-PRO-002", "t", "m", check="check_x", observed=observed("GET /worlds"))
    shard.mark_not_applicable("P2-AUTH-003", "no issuer")
    shard.mark_blocked("P2-SEM-001", "blocked")
    shard.count_request("GET /worlds")
    shard.error("an error")
    merged = _recorder()
    merged.passed("P2-PRO-001", "GET /worlds")
    merged.absorb(json.loads(json.dumps(shard.export())))  # through JSON, as a shard's file
    assert merged.evaluations("P2-PRO-001") == {"GET /worlds": 2}
    [failure] = merged.failures_of("P2-PRO-002")
    assert failure == shard.failures_of("P2-PRO-002")[0]
    assert merged.occurrences(failure) == 3
    assert merged.not_applicable == shard.not_applicable and merged.blocked == shard.blocked
    assert merged.requests_sent == 1 and merged.errors == ["an error"]


def test_an_export_naming_an_unknown_requirement_is_refused() -> None:
    exported = _recorder().export()
    exported["evaluations"] = {"P2-NOPE-001": {"": 1}}
    with pytest.raises(KeyError):
        _recorder().absorb(exported)
