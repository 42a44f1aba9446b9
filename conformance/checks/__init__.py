"""Every check of the suite, registered in `registry.REGISTRY` with its requirement IDs.

Three sources, loaded in this order: the built-in checks (found from the class folders), the
checks installed packages declare under the entry-point group `phase2_conformance.checks`, and the
modules named with `--checks-module`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import pkgutil
import sys

BUILTIN_MODULE = "conformance.checks.builtin"  # Schemathesis' own checks, traced to requirements
CLASSES_PACKAGE = "conformance.classes"  # one folder per conformance class; `shared` holds no checks
SHARED_PACKAGE = "conformance.classes.shared"
ENTRY_POINT_GROUP = "phase2_conformance.checks"  # an installed package's modules of checks


def builtin_check_modules() -> tuple[str, ...]:
    """Every module of the class folders, found on disk: a new check module needs no list to join."""
    package = importlib.import_module(CLASSES_PACKAGE)
    found = [
        info.name
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{CLASSES_PACKAGE}.")
        if not info.ispkg and not info.name.startswith(f"{SHARED_PACKAGE}.")
    ]
    return (BUILTIN_MODULE, *sorted(found))


def installed_check_plugins() -> tuple[importlib.metadata.EntryPoint, ...]:
    """The entry points of installed packages in `ENTRY_POINT_GROUP`, in a stable order."""
    found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    return tuple(sorted(found, key=lambda entry: (entry.name, entry.value)))


def load_checks(extra_modules: tuple[str, ...] = (), *, read_only: bool = False) -> None:
    """Import every module that registers checks: built-in ones, installed plugins', the user's.

    `read_only` (the smoke profile) refuses installed plugins: their checks may write, and a smoke
    run must not run code it cannot vouch for (`--checks-module` is refused with the settings)."""
    from conformance.errors import ConfigError

    for module in builtin_check_modules():
        importlib.import_module(module)
    plugins = installed_check_plugins()
    if plugins and read_only:
        names = ", ".join(f"{entry.name} ({entry.value})" for entry in plugins)
        raise ConfigError(
            f"the smoke profile is read-only and refuses the installed check plugins {names} "
            "(checks it cannot vouch for); use --profile quick for a full check"
        )
    for entry in plugins:
        try:
            entry.load()
        except ImportError as exc:
            # An installed plugin that cannot load would silently shrink the run: refuse it.
            raise ConfigError(f"cannot load check plugin {entry.name!r} ({entry.value}): {exc}") from None
    if extra_modules and os.getcwd() not in sys.path:
        # The user's check modules live in their project, like a conftest.
        sys.path.insert(0, os.getcwd())
    for module in extra_modules:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            raise ConfigError(f"cannot import check module {module!r}") from None
