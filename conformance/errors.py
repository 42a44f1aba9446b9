"""The suite's own errors, kept apart from `Failure` (a target breaking the contract).

    Phase2Error                 exit code 2 unless a subclass says otherwise
    ├── ConfigError             bad settings, arguments or files (exit 2)
    ├── TargetUnreachable       the target cannot be reached or does not speak HTTP (exit 3)
    └── AuthError               no usable token can be obtained (exit 3)

The CLI prints `str(error)` as one line and exits with `error.exit_code`; no traceback.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    CONFORMS = 0
    NONCONFORMANCE = 1
    USAGE = 2
    TARGET = 3


class Phase2Error(Exception):
    exit_code: ExitCode = ExitCode.USAGE

    def __str__(self) -> str:
        # One line, always: a reason spread over lines is hard to read in CI logs.
        return " ".join(super().__str__().split())


class ConfigError(Phase2Error):
    exit_code = ExitCode.USAGE


class TargetUnreachable(Phase2Error):
    exit_code = ExitCode.TARGET


class AuthError(Phase2Error):
    exit_code = ExitCode.TARGET
