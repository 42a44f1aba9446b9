"""A run from the CLI: prepare the target, then one pytest session over `conformance.suite`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance import plugin
from conformance.client.secrets import Redactor
from conformance.errors import AuthError, TargetUnreachable
from conformance.reporting import write_reports
from conformance.results import RunResult
from conformance.runner.session import RunSession
from conformance.settings import Settings

SUITE_DIR = Path(__file__).resolve().parent.parent / "suite"


def pytest_arguments(extra: tuple[str, ...] = ()) -> list[str]:
    return [
        "-c",
        str(SUITE_DIR / "pytest.ini"),
        "--rootdir",
        str(SUITE_DIR),
        # The entry-point copy of the plugin is blocked so the module is registered exactly once.
        "-p",
        "no:phase2_conformance",
        "-p",
        "no:terminal",
        "-p",
        "no:cacheprovider",
        # One session, one target, one verdict: a `-n` from PYTEST_ADDOPTS must not split the run.
        "-p",
        "no:xdist",
        # The suite records verdicts itself; rewriting every plugin's asserts costs seconds.
        "--assert=plain",
        *extra,
        str(SUITE_DIR),
    ]


@contextlib.contextmanager
def _without_pytest_addopts() -> Iterator[None]:
    """The CLI's pytest session is the suite's own: a caller's PYTEST_ADDOPTS (say `-n 4`) is not for it."""
    saved = os.environ.pop("PYTEST_ADDOPTS", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["PYTEST_ADDOPTS"] = saved


def allure_arguments(settings: Settings) -> tuple[str, ...]:
    """allure-pytest writes its results next to the other reports (registered by its option)."""
    from conformance.reporting.allure import RESULTS_DIR

    return ("--alluredir", str(settings.report_dir / RESULTS_DIR), "--clean-alluredir")


def run(
    settings: Settings,
    extra_pytest_args: tuple[str, ...] = (),
    progress: Any = None,
    redactor: Redactor | None = None,
) -> RunResult:
    """Run the suite; raises `Phase2Error` when the target cannot be prepared.

    A target that cannot be reached still gets a report: verdict `error`, with the reason.
    `redactor` is the caller's, so what the caller prints is masked with every token the run got.
    """
    session = RunSession(settings, redactor)
    try:
        session.prepare()
    except (TargetUnreachable, AuthError) as error:
        session.lose_target(error)
        write_reports(session.finish(), session.settings, redactor=session.redactor)
        raise
    except KeyboardInterrupt as error:
        # Stopped while the reference or the helpers were starting: still a report, marked interrupted.
        session.interrupt(error)
        try:
            return write_reports(session.finish(), session.settings, redactor=session.redactor)
        finally:
            session.close()
    try:
        plugins: list[Any] = [plugin, plugin.PreparedSession(session)]
        if progress is not None:
            plugins.append(progress)
        with _without_pytest_addopts():
            pytest.main(pytest_arguments((*allure_arguments(settings), *extra_pytest_args)), plugins=plugins)
        if session.result is None:
            # pytest stopped before its session finished (an internal error): still give a verdict.
            session.recorder.error("the test session ended early")
            session.result = write_reports(session.finish(), session.settings, redactor=session.redactor)
    except KeyboardInterrupt as error:
        # A signal outside pytest's own handling (before it started its session, or after it).
        if session.result is None:
            session.interrupt(error)
            session.result = write_reports(session.finish(), session.settings, redactor=session.redactor)
    finally:
        session.close()
    assert session.result is not None
    return session.result
