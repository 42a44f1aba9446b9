"""Schemathesis' built-in checks, each traced to the requirement it verifies.

They run on every Schemathesis-generated response. A wrapper tags each failure with the check
that raised it and reports a pass only where the check actually applies to the case, so a
requirement is never "passed" by a check that had nothing to judge.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from schemathesis.checks import load_all_checks
from schemathesis.generation.meta import CoveragePhaseData, CoverageScenario

from conformance.checks.registry import check

load_all_checks()
from schemathesis.specs.openapi import checks as st_checks  # noqa: E402 - needs load_all_checks first

ORIGIN_TAG = "_phase2_check"


def _negative(case: Any, response: Any) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_negative


def _anything(case: Any) -> bool:
    return True


def _coverage(scenario: CoverageScenario) -> Callable[[Any, Any], bool]:
    def applies(case: Any, response: Any) -> bool:
        data = case.meta.phase.data if case.meta is not None else None
        return isinstance(data, CoveragePhaseData) and data.scenario == scenario

    return applies


def _always(case: Any, response: Any) -> bool:
    return True


def _protected_success(case: Any, response: Any) -> bool:
    # `iter_parameters()` is an iterator, truthy even when empty: ask whether it yields anything.
    declared = next(iter(case.operation.security.iter_parameters()), None)
    return 200 <= response.status_code < 300 and declared is not None


def _stateful(case: Any, response: Any) -> bool:
    return case.meta is not None and case.meta.phase.name.value == "stateful"


@dataclass(frozen=True)
class Builtin:
    func: Callable[..., Any]
    requirement_id: str
    applies: Callable[[Any, Any], bool]
    runs_on: Callable[[Any], bool] = _anything


BUILTINS: tuple[Builtin, ...] = (
    Builtin(st_checks.status_code_conformance, "P2-CON-001", _always),
    Builtin(st_checks.content_type_conformance, "P2-CON-002", _always),
    Builtin(st_checks.response_schema_conformance, "P2-CON-003", _always),
    Builtin(st_checks.response_headers_conformance, "P2-CON-004", _always),
    Builtin(st_checks.negative_data_rejection, "P2-CON-006", _negative),
    Builtin(st_checks.missing_required_header, "P2-CON-007", _coverage(CoverageScenario.MISSING_PARAMETER)),
    Builtin(st_checks.ensure_resource_availability, "P2-CON-009", _stateful),
    Builtin(st_checks.use_after_free, "P2-CON-010", _stateful),
    Builtin(st_checks.unsupported_method, "P2-PRO-006", _coverage(CoverageScenario.UNSPECIFIED_HTTP_METHOD)),
    Builtin(st_checks.ignored_auth, "P2-AUTH-001", _protected_success),
)


def _not_a_server_error(ctx: Any, response: Any, case: Any) -> Any:
    from schemathesis.checks import not_a_server_error

    return not_a_server_error(ctx, response, case)


BUILTINS = (Builtin(_not_a_server_error, "P2-CON-008", _always), *BUILTINS)

Reporter = Callable[[str, str, Any, Any], None]  # (requirement_id, check name, case, response)
# (check name, case, error): a request the check sent itself got no usable answer.
Unanswered = Callable[[str, Any, requests.RequestException], None]


def wrapped_builtins(on_pass: Reporter, on_unanswered: Unanswered) -> list[Callable[..., Any]]:
    """The built-in checks, each tagging its failures and reporting applicable passes.

    A check that sends requests of its own (`ignored_auth`'s probes) and meets a time-out, a reset
    or a transport limit on one reports it to `on_unanswered` and verifies nothing: Schemathesis
    would let the error end the item, and skip the case's remaining checks."""
    wrapped: list[Callable[..., Any]] = []
    for builtin in BUILTINS:

        def run(ctx: Any, response: Any, case: Any, _b: Builtin = builtin) -> Any:
            if not _b.runs_on(case):
                return None
            try:
                result = _b.func(ctx, response, case)
            except requests.RequestException as exc:
                on_unanswered(_b.func.__name__.lstrip("_"), case, exc)
                return None
            except BaseException as exc:
                for failure in getattr(exc, "exceptions", (exc,)):
                    with contextlib.suppress(AttributeError):
                        setattr(failure, ORIGIN_TAG, (_b.requirement_id, _b.func.__name__))
                raise
            if result is not False and _b.applies(case, response):
                on_pass(_b.requirement_id, _b.func.__name__.lstrip("_"), case, response)
            return result

        wrapped.append(functools.wraps(builtin.func)(run))
    return wrapped


def _register() -> None:
    # The registry lists the built-ins too, so requirement coverage is counted in one place.
    for builtin in BUILTINS:
        short = builtin.func.__name__.lstrip("_")
        check(
            builtin.requirement_id,
            kind="builtin",
            name=f"schemathesis.{short}",
            description=f"Schemathesis built-in check {short}",
        )(builtin.func)


_register()
