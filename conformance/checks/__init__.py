"""Every check of the suite, registered in `registry.REGISTRY` with its requirement IDs."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

BUILTIN_MODULE = "conformance.checks.builtin"  # Schemathesis' own checks, traced to requirements
CLASSES_PACKAGE = "conformance.classes"  # one folder per conformance class; `shared` holds no checks
SHARED_PACKAGE = "conformance.classes.shared"


def builtin_check_modules() -> tuple[str, ...]:
    """Every module of the class folders, found on disk: a new check module needs no list to join."""
    package = importlib.import_module(CLASSES_PACKAGE)
    found = [
        info.name
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{CLASSES_PACKAGE}.")
        if not info.ispkg and not info.name.startswith(f"{SHARED_PACKAGE}.")
    ]
    return (BUILTIN_MODULE, *sorted(found))


def load_checks(extra_modules: tuple[str, ...] = ()) -> None:
    """Import every module that registers checks (built-in ones, then the user's)."""
    for module in builtin_check_modules():
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
