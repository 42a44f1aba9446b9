"""Phase 2 Conformance: contract tests and conformance classes for the Phase 2 API.

Public API: `run(settings)` runs the suite and returns a `RunResult`; `check` registers a check;
`load_settings` builds the one immutable `Settings` object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from conformance.results import RunResult
    from conformance.settings import Settings

__all__ = ["__version__", "check", "load_settings", "run"]


def run(settings: Settings) -> RunResult:
    from conformance.runner.cli_run import run as run_engine

    return run_engine(settings)


def __getattr__(name: str) -> Any:
    # Lazy, so `import conformance` (and the pytest plugin entry point) stays cheap.
    if name == "check":
        from conformance.checks.registry import check

        return check
    if name == "load_settings":
        from conformance.settings import load_settings

        return load_settings
    raise AttributeError(name)
