"""The error tree: each error knows its exit code and reads as one line."""

from __future__ import annotations

import pytest

from conformance.errors import AuthError, ConfigError, ExitCode, Phase2Error, TargetUnreachable


@pytest.mark.parametrize(
    ("error", "code"),
    [(ConfigError, 2), (TargetUnreachable, 3), (AuthError, 3), (Phase2Error, 2)],
)
def test_each_error_carries_its_exit_code(error: type[Phase2Error], code: int) -> None:
    assert int(error("x").exit_code) == code
    assert issubclass(error, Phase2Error)


def test_the_exit_codes_are_the_documented_ones() -> None:
    assert [(code.name, int(code)) for code in ExitCode] == [
        ("CONFORMS", 0),
        ("NONCONFORMANCE", 1),
        ("USAGE", 2),
        ("TARGET", 3),
    ]


def test_a_reason_spread_over_lines_prints_as_one() -> None:
    error = TargetUnreachable("cannot connect\n  to 127.0.0.1:9:\r\n\tconnection refused  ")
    assert str(error) == "cannot connect to 127.0.0.1:9: connection refused"
