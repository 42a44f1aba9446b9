"""The arguments of `run` and `doctor`, generated from the schema.

Flags only collect strings: every value is parsed and checked by `load_settings`, so a wrong value
reads the same from a flag, a variable or the config file (`--seed must be an integer, got 'x'`).
"""

from __future__ import annotations

import argparse
from typing import Any

from conformance.settings.schema import GROUPS, SCHEMA, Kind, Setting

ACTIONS: dict[Kind, dict[str, Any]] = {
    Kind.VALUE: {},
    Kind.SWITCH: {"action": "store_true", "default": None},
    Kind.TOGGLE: {"action": argparse.BooleanOptionalAction, "default": None},
    Kind.LIST: {"action": "append"},
}


def terminal_help(setting: Setting) -> str:
    """The help line of a flag or option: the schema's, without Markdown, with its variable and default."""
    notes = [setting.env] if setting.env else []
    if setting.default is not None:
        notes.append(f"default: {setting.default.text}")
    text = setting.help + (f" ({'; '.join(notes)})" if notes else "")
    # argparse %-formats help strings: a literal percent sign must be doubled.
    return text.replace("`", "").replace("%", "%%")


def metavar(setting: Setting) -> str | None:
    if setting.kind in (Kind.SWITCH, Kind.TOGGLE):
        return None
    return setting.metavar or setting.name.upper()


def add_setting_arguments(parser: argparse.ArgumentParser) -> dict[str, argparse._ArgumentGroup]:
    """Every setting with a flag, in its section; returns the sections for the command's own arguments."""
    groups = {title: parser.add_argument_group(title) for title in GROUPS}
    for setting in SCHEMA:
        if not setting.flags:
            continue
        extra = dict(ACTIONS[setting.kind])
        if metavar(setting) is not None:
            extra["metavar"] = metavar(setting)
        groups[setting.group].add_argument(*setting.flags, dest=setting.name, help=terminal_help(setting), **extra)
    return groups


def command_line_values(args: argparse.Namespace) -> dict[str, Any]:
    """What the command line gave, by setting name (None = not given), for `load_settings`."""
    return {setting.name: getattr(args, setting.name, None) for setting in SCHEMA if setting.flags}
