"""Validators derived from the contract: wire values, parameter locations and bodies."""

from __future__ import annotations

import pytest

from phase2_reference.gateway.contract import load_contract
from phase2_reference.gateway.validation import OperationValidator, read_wire_value

INTEGER = {"type": "integer"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", 5),
        ("05", 5),
        ("-3", -3),
        ("+7", 7),
        (" 5", " 5"),
        ("1_0", "1_0"),
        ("1.0", "1.0"),
        ("٣", "٣"),
        ("9" * 40, "9" * 40),
        ("", ""),
    ],
)
def test_integers_are_read_the_way_servers_read_them(text: str, expected: object) -> None:
    assert read_wire_value(text, INTEGER) == expected


def test_strings_stay_strings() -> None:
    assert read_wire_value("5", {"type": "string"}) == "5"


def validator(operation_id: str) -> OperationValidator:
    return OperationValidator.build(load_contract().operations[operation_id])


def test_query_issues_point_at_the_parameter() -> None:
    values, issues = validator("listWorlds").query.read({"limit": "0", "cursor": "ok_cursor"})
    assert values == {"limit": 0, "cursor": "ok_cursor"}
    assert [issue.pointer for issue in issues] == ["#/query/limit"]


def test_headers_are_matched_case_insensitively_and_formats_checked() -> None:
    _, issues = validator("getWorld").header.read({"x-request-id": "bad id"})
    assert [issue.pointer for issue in issues] == ["#/header/x-request-id"]
    _, path_issues = validator("getWorld").path.read({"world_id": "3f0c9a52-6a4e-4f3e-9a57-1d6e2b0c8f1"})
    assert [issue.pointer for issue in path_issues] == ["#/path/world_id"]


def test_a_missing_required_header_is_reported() -> None:
    _, issues = validator("updateWorld").header.read({})
    assert [issue.pointer for issue in issues] == ["#/header/if-match"]


def test_body_issues_point_into_the_document() -> None:
    body = validator("createWorld").body
    assert body is not None
    issues = body.issues("application/json", {"colour": "red", "labels": {"Bad": "x"}, "settings": {"tick_rate_hz": 0}})
    pointers = sorted(issue.pointer for issue in issues)
    assert pointers == ["/colour", "/labels", "/name", "/settings/tick_rate_hz"]
    assert all(len(issue.detail) <= 200 for issue in issues)
    assert body.issues("application/json", {"name": "ok", "settings": {"tick_rate_hz": 60.0}}) == []
    runtime = validator("startRuntime").body
    assert runtime is not None
    assert [i.pointer for i in runtime.issues("application/json", {"world_id": "x", "plugin": "p-1"})] == ["/world_id"]


def test_patterns_are_read_as_ecma_262() -> None:
    body = validator("createWorld").body
    assert body is not None
    assert [i.pointer for i in body.issues("application/json", {"name": "trailing\n"})] == ["/name"]
    assert [i.pointer for i in body.issues("application/json", {"name": "ok", "labels": {"team\n": "x"}})] == [
        "/labels"
    ]
    _, issues = validator("listWorlds").query.read({"cursor": "abc\n"})
    assert [issue.pointer for issue in issues] == ["#/query/cursor"]
