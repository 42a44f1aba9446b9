"""The waivers file: what it accepts, what it refuses, and how a waiver matches a failure."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from conformance.contract import load_catalog
from conformance.errors import ConfigError
from conformance.results import Failure, Severity, Waiver
from conformance.waivers import covering, describe, is_expired, load_waivers, matches


def load(tmp_path: Path, text: str) -> tuple[Waiver, ...]:
    path = tmp_path / "waivers.yaml"
    path.write_text(text, encoding="utf-8")
    return load_waivers(path, load_catalog())


def failure(requirement_id: str = "P2-PRO-004", operation: str | None = "GET /engine") -> Failure:
    return Failure(requirement_id, "title", "message", Severity.MAJOR, "check_x", operation)


def test_loads_entries_and_normalises_operations(tmp_path: Path) -> None:
    waivers = load(
        tmp_path,
        """
waivers:
  - requirement: P2-PRO-004
    operation: getEngineInfo
    reason: "proxy strips   the header"
    owner: platform-team
    expires: 2026-03-31
  - requirement: P2-CON-003
    operation: get /worlds/{world_id}
    reason: schema drift
    owner: api-team
    expires: "2026-04-01"
  - requirement: P2-SEM-014
    reason: not yet
    owner: api-team
    expires: 2026-05-01
""",
    )
    assert waivers == (
        Waiver("P2-PRO-004", "GET /engine", "proxy strips the header", "platform-team", "2026-03-31"),
        Waiver("P2-CON-003", "GET /worlds/{world_id}", "schema drift", "api-team", "2026-04-01"),
        Waiver("P2-SEM-014", None, "not yet", "api-team", "2026-05-01"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("waivers: {}", "must hold a list under 'waivers'"),
        ("- requirement: P2-PRO-004", "must hold a list under 'waivers'"),
        (
            "waivers:\n  - requirement: P2-PRO-004\n    reason: r\n    owner: o\n",
            "entry 1 needs requirement, reason, owner, expires",
        ),
        (
            "waivers:\n  - {requirement: P2-XXX-999, reason: r, owner: o, expires: 2026-01-01}",
            "entry 1 names unknown requirement P2-XXX-999",
        ),
        (
            "waivers:\n  - {requirement: P2-PRO-004, reason: r, owner: o, expires: 2026-13-01}",
            "entry 1 has a bad expiry date",
        ),
        (
            "waivers:\n  - {requirement: P2-PRO-004, operaton: getEngineInfo,"
            " reason: r, owner: o, expires: 2026-01-01}",
            "entry 1 has unknown key 'operaton'",
        ),
        (
            "waivers:\n  - {requirement: P2-PRO-004, operation: getNothing, reason: r, owner: o, expires: 2026-01-01}",
            "entry 1 names unknown operation 'getNothing'",
        ),
        (
            "waivers:\n  - {requirement: P2-PRO-004, reason: '  ', owner: o, expires: 2026-01-01}",
            "entry 1 has an empty reason",
        ),
        ("waivers: [", "cannot read waivers file"),
    ],
)
def test_mistakes_are_one_config_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_empty_file_has_no_waivers(tmp_path: Path) -> None:
    assert load(tmp_path, "") == ()


def test_expiry_is_inclusive() -> None:
    waiver = Waiver("P2-PRO-004", None, "r", "o", "2026-03-31")
    assert not is_expired(waiver, date(2026, 3, 31))
    assert is_expired(waiver, date(2026, 4, 1))


def test_matching_by_requirement_and_operation() -> None:
    any_operation = Waiver("P2-PRO-004", None, "r", "o", "2026-03-31")
    one_operation = Waiver("P2-PRO-004", "GET /engine", "r", "o", "2026-03-31")
    assert matches(any_operation, failure(operation="GET /worlds"))
    assert matches(one_operation, failure())
    assert not matches(one_operation, failure(operation="GET /worlds"))
    assert not matches(one_operation, failure(requirement_id="P2-PRO-005"))


def test_covering_ignores_expired_waivers() -> None:
    expired = Waiver("P2-PRO-004", None, "old", "o", "2026-01-01")
    current = Waiver("P2-PRO-004", "GET /engine", "new", "o", "2026-06-30")
    today = date(2026, 2, 1)
    assert covering(failure(), [expired, current], today) == current
    assert covering(failure(), [expired], today) is None


def test_describe() -> None:
    waiver = Waiver("P2-PRO-004", "GET /engine", "proxy bug", "platform-team", "2026-03-31")
    assert describe(waiver) == "waived on GET /engine until 2026-03-31 by platform-team: proxy bug"
