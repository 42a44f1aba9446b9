"""'Did you mean': the closest known spelling, or nothing."""

from __future__ import annotations

from conformance.suggest import closest, did_you_mean

CLASSES = ("contract", "protocol", "semantic", "auth", "health", "telemetry")


def test_the_closest_spelling_is_found_without_case() -> None:
    assert closest("helth", CLASSES) == "health"
    assert closest("TELEMTRY", CLASSES) == "telemetry"
    assert closest("Health", ["HEALTH"]) == "HEALTH"  # the known spelling is returned, not the typed one


def test_nothing_close_is_nothing() -> None:
    assert closest("zzzz", CLASSES) is None
    assert closest("health", ()) is None
    assert did_you_mean("zzzz", CLASSES) == ""


def test_the_clause_ends_an_error_line() -> None:
    assert did_you_mean("protocl", CLASSES) == "; did you mean protocol?"
