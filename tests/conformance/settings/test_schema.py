"""The settings schema is the only list of settings: every face and table is generated from it."""

from __future__ import annotations

import argparse
import dataclasses
from collections import Counter

import pytest

from conformance.cli import build_parser
from conformance.settings import ENVIRONMENT, SCHEMA, Settings, load_settings
from conformance.settings.cli_options import command_line_values
from conformance.settings.loader import COMPOSED
from conformance.settings.pytest_options import PYTEST_SETTINGS
from conformance.settings.schema import CONFIG_KEYS, GROUPS, Face, Kind


def _options(command: str) -> dict[str, str]:
    """Every option of a subcommand: flag → the setting (dest) it sets."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {flag: action.dest for action in subparsers.choices[command]._actions for flag in action.option_strings}


def test_every_settings_field_is_filled_by_one_row_or_composed_by_the_loader() -> None:
    filled = Counter(setting.settings_field for setting in SCHEMA if setting.settings_field)
    assert max(filled.values()) == 1, "two rows fill one field"
    assert set(filled) | COMPOSED == {field.name for field in dataclasses.fields(Settings)}
    assert not set(filled) & COMPOSED


def test_spellings_are_unique_and_secrets_have_no_command_line() -> None:
    flags = [flag for setting in SCHEMA for flag in setting.flags]
    assert len(flags) == len(set(flags))
    assert len(ENVIRONMENT) == len([s for s in SCHEMA if s.env]) and all(v.startswith("PHASE2_") for v in ENVIRONMENT)
    assert len(CONFIG_KEYS) == len([s for s in SCHEMA if s.key])
    pytest_options = [s.option(Face.PYTEST) for s in PYTEST_SETTINGS]
    assert len(pytest_options) == len(set(pytest_options))
    assert all(setting.group in GROUPS for setting in SCHEMA)
    secrets = [setting for setting in SCHEMA if setting.secret]
    assert {s.name for s in secrets} == {"client_secret", "other_tenant_client_secret", "read_only_client_secret"}
    assert all(not s.flags and s.option(Face.PYTEST) is None and s.env for s in secrets)


@pytest.mark.parametrize("command", ["run", "doctor"])
def test_run_and_doctor_take_every_flag_of_the_schema(command: str) -> None:
    options = _options(command)
    for setting in SCHEMA:
        for flag in setting.flags:
            assert options.pop(flag) == setting.name, flag
        if setting.kind is Kind.TOGGLE:
            assert options.pop("--no-" + setting.flags[0].removeprefix("--")) == setting.name
    # How the outcome is shown, not what is tested: the console's own flags stay outside the schema.
    shown = {"-h", "--help", "-q", "--quiet"} | ({"--format"} if command == "run" else set())
    assert set(options) == shown, "a flag of the command outside the schema"


def test_the_pytest_face_has_every_setting_the_command_line_has() -> None:
    """The pytest face once had 20 of 44 settings; now every setting with a flag has its option."""
    assert {s.name for s in PYTEST_SETTINGS} == {s.name for s in SCHEMA if s.flags}
    assert {s.option(Face.PYTEST) for s in PYTEST_SETTINGS} >= {
        "--phase2-base-url", "--phase2-reference", "--phase2-requirements", "--phase2-operations",
        "--phase2-checks-modules", "--phase2-flags", "--phase2-require-all", "--phase2-config",
    }  # fmt: skip


def test_flags_collect_strings_and_the_loader_parses_them() -> None:
    args = build_parser().parse_args(
        ["run", "--reference", "--seed", "7", "--requirement", "P2-HLT-001,p2-hlt-002", "--requirement", "P2-HLT-004",
         "--no-test-issuer-trusted", "--classes", "health"]
    )  # fmt: skip
    values = command_line_values(args)
    assert values["seed"] == "7" and values["test_issuer_trusted"] is False and values["base_url"] is None
    settings = load_settings(values, env={})
    assert settings.seed == 7
    assert settings.requirement_filter == frozenset({"P2-HLT-001", "P2-HLT-002", "P2-HLT-004"})
    assert not settings.test_issuer_trusted
