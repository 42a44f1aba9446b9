"""Every check of the suite, registered in `registry.REGISTRY` with its requirement IDs."""

from __future__ import annotations

import importlib
import os
import sys

BUILTIN_MODULES = (
    "conformance.checks.builtin",
    "conformance.checks.protocol",
    "conformance.checks.contract",
    "conformance.classes.protocol",
    "conformance.classes.contract",
    "conformance.classes.representations",
    "conformance.classes.worlds",
    "conformance.classes.listing",
    "conformance.classes.runtimes",
    "conformance.classes.events",
    "conformance.classes.engine",
    "conformance.classes.auth_tokens",
    "conformance.classes.auth_scopes",
    "conformance.classes.auth_endpoints",
    "conformance.classes.auth_isolation",
    "conformance.classes.health",
    "conformance.classes.telemetry",
)


def load_checks(extra_modules: tuple[str, ...] = ()) -> None:
    """Import every module that registers checks (built-in ones, then the user's)."""
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    if extra_modules and os.getcwd() not in sys.path:
        # The user's check modules live in their project, like a conftest.
        sys.path.insert(0, os.getcwd())
    for module in extra_modules:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            from conformance.errors import ConfigError

            raise ConfigError(f"cannot import check module {module!r}") from None
