"""Where setting values come from: the command line, `PHASE2_*` variables, the config file.

Each value keeps two descriptions: `origin` for `Settings.sources` (what the doctor and the
summary show) and `label`, the very spelling the user typed, which every error names.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from conformance import local_files
from conformance.errors import ConfigError
from conformance.settings.parsers import shown
from conformance.settings.schema import BY_NAME, CONFIG_KEYS, ENVIRONMENT, Face
from conformance.suggest import did_you_mean

COMMAND_LINE = "the command line"
RANKS = {"config": 0, "environment": 1, "command line": 2}  # higher wins


@dataclass(frozen=True)
class Given:
    value: Any
    origin: str  # "the command line", "environment PHASE2_SEED", "config file run.toml"
    label: str  # "--seed", "PHASE2_SEED", "config key 'seed' in run.toml"
    rank: int  # precedence: command line over environment over config file


def command_line(values: Mapping[str, Any], face: Face) -> dict[str, Given]:
    """Values given on `face`'s command line, keyed by setting name; None (or empty) means not given."""
    given: dict[str, Given] = {}
    for name, value in values.items():
        if value is None or value == () or value == []:
            continue
        setting = BY_NAME.get(name)
        option = setting.option(face) if setting is not None else None
        if option is None:
            # A programming error of a caller (a face offers only options of the schema): name it plainly.
            raise ConfigError(f"unknown setting {name!r} for the {face.value} command line")
        given[name] = Given(value, COMMAND_LINE, option, RANKS["command line"])
    return given


def environment(env: Mapping[str, str]) -> dict[str, Given]:
    return {
        name: Given(env[variable], f"environment {variable}", variable, RANKS["environment"])
        for variable, name in ENVIRONMENT.items()
        if env.get(variable)
    }


def unknown_environment(env: Mapping[str, str]) -> tuple[str, ...]:
    """A warning per `PHASE2_*` variable the suite does not read: a typo must not go unnoticed."""
    return tuple(
        f"ignoring unknown environment variable {variable}{did_you_mean(variable, ENVIRONMENT)}"
        for variable in sorted(env)
        if variable.startswith("PHASE2_") and variable not in ENVIRONMENT
    )


def _as_text(value: Any) -> Any:
    """TOML dates and times as their text (as the waivers file reads dates): the setting's parser judges them."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return [_as_text(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_text(item) for key, item in value.items()}
    return value


def config_file(path: Path) -> dict[str, Given]:
    """The settings of a TOML file; an unknown key is refused with the closest known one.

    The file is read through the one door for local files (a regular file under 1 MiB, never a FIFO
    or a device) and checked against the published schema before any value is used."""
    raw = local_files.read_named(path, local_files.CONFIG.max_bytes, "config file")
    try:
        data = _as_text(tomllib.loads(raw.decode("utf-8")))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {' '.join(str(exc).split())[:200]}") from None
    given: dict[str, Given] = {}
    for key, value in data.items():
        name = CONFIG_KEYS.get(key.replace("_", "-"))
        if name is None:
            hint = did_you_mean(key.replace("_", "-"), CONFIG_KEYS)
            raise ConfigError(f"config file {path}: unknown setting {shown(key)}{hint}")
        if name in given:
            raise ConfigError(f"config file {path} sets {BY_NAME[name].key!r} twice (with dashes and underscores)")
        given[name] = Given(value, f"config file {path}", f"config key {shown(key)} in {path}", RANKS["config"])
    violation = local_files.first_violation(data, local_files.CONFIG)
    if violation is not None:
        if violation.path:
            # The setting's own parser, when it refuses the value too, says it more plainly.
            name = CONFIG_KEYS[str(violation.path[0]).replace("_", "-")]
            BY_NAME[name].parse(given[name].value, given[name].label)
        raise local_files.refuse(f"config file {path}", violation.path, local_files.shown(violation.message))
    return given
