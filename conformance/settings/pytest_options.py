"""The pytest plugin's `--phase2-*` options, generated from the schema: every setting with a flag of
`run` has its option (a secret has neither: a command line is seen by `ps`)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.settings.cli_options import ACTIONS, metavar, terminal_help
from conformance.settings.schema import SCHEMA, Face, Setting

PYTEST_SETTINGS: tuple[Setting, ...] = tuple(setting for setting in SCHEMA if setting.option(Face.PYTEST))


def dest(setting: Setting) -> str:
    return f"phase2_{setting.name}"


def add_options(group: pytest.OptionGroup) -> None:
    for setting in PYTEST_SETTINGS:
        extra = dict(ACTIONS[setting.kind])
        extra.setdefault("default", None)
        if metavar(setting) is not None:
            extra["metavar"] = metavar(setting)
        option = setting.option(Face.PYTEST)
        assert option is not None
        group.addoption(option, dest=dest(setting), help=terminal_help(setting), **extra)


def option_values(config: pytest.Config) -> dict[str, Any]:
    """What pytest's command line gave, by setting name (None = not given), for `load_settings`."""
    return {setting.name: config.getoption(dest(setting)) for setting in PYTEST_SETTINGS}
