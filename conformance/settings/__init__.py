"""The run's settings: one frozen `Settings`, built once by `load_settings` from one schema.

schema.py          the table: one row per setting (flags, variable, config key, pytest option,
                   default, parser, help); every other list of settings is generated from it
parsers.py         a value's parser per type; errors name the flag, variable or key the user typed
defaults.py        defaults that follow from the profile, the target or the CI job
sources.py         the command line, `PHASE2_*` variables, the TOML config file
loader.py          `load_settings`: precedence, the rules between settings, the frozen object
model.py           `Settings` and its value objects
cli_options.py     the arguments of `run` and `doctor`
pytest_options.py  the `--phase2-*` options of the pytest plugin
docs_tables.py     the README's settings table and the runbook's environment table
"""

from __future__ import annotations

from conformance.settings.defaults import LOOPBACK_WORKERS, MAX_WORKERS, REMOTE_WORKERS, default_workers
from conformance.settings.loader import NO_TARGET, load_settings
from conformance.settings.model import Identity, Secret, Settings, TLSSettings, configure_logging
from conformance.settings.parsers import KNOWN_FLAGS, LOG_LEVELS
from conformance.settings.schema import ENVIRONMENT, SCHEMA, SETTING_NAMES
from conformance.settings.sources import unknown_environment

__all__ = [
    "ENVIRONMENT",
    "KNOWN_FLAGS",
    "LOG_LEVELS",
    "LOOPBACK_WORKERS",
    "MAX_WORKERS",
    "NO_TARGET",
    "REMOTE_WORKERS",
    "SCHEMA",
    "SETTING_NAMES",
    "Identity",
    "Secret",
    "Settings",
    "TLSSettings",
    "configure_logging",
    "default_workers",
    "load_settings",
    "unknown_environment",
]
