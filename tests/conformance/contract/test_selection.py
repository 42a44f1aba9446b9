"""Selectors are validated against the catalog and the contract before anything starts.

Walks every selector (classes, requirements, operations) in every spelling `load_settings` reads
(command line, `PHASE2_*` environment, config file); the CLI's and pytest's option spellings are
in test_cli.py and test_plugin.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.errors import ConfigError, ExitCode
from conformance.settings import load_settings

REFERENCE = {"PHASE2_REFERENCE": "1"}

# selector → (a mistyped value, the suggestion the error must make)
MISTYPED = {
    "classes": ("helth", "did you mean health?"),
    "requirements": ("P2-HLT001", "did you mean P2-HLT-001?"),
    "operations": ("getLivenes", "did you mean getLiveness?"),
}
SPELLINGS = ("command line", "environment", "config file")


def _load(selector: str, value: str, spelling: str, tmp_path: Path, **more: str) -> object:
    values = {selector: value, **more}
    if spelling == "environment":
        return load_settings({}, env={**REFERENCE, **{f"PHASE2_{k.upper()}": v for k, v in values.items()}})
    if spelling == "config file":
        config = tmp_path / "run.toml"
        config.write_text("".join(f'{key.replace("_", "-")} = ["{v}"]\n' for key, v in values.items()))
        return load_settings({"config": str(config)}, env=REFERENCE)
    return load_settings({k: [v] for k, v in values.items()}, env=REFERENCE)


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("selector", list(MISTYPED))
def test_an_unknown_value_is_one_usage_line_with_a_suggestion(selector: str, spelling: str, tmp_path: Path) -> None:
    value, suggestion = MISTYPED[selector]
    with pytest.raises(ConfigError) as raised:
        _load(selector, value, spelling, tmp_path)
    message = str(raised.value)
    assert repr(value) in message and suggestion in message
    assert "\n" not in message
    assert raised.value.exit_code is ExitCode.USAGE


def test_an_unknown_value_with_nothing_close_still_says_where_to_look() -> None:
    with pytest.raises(ConfigError, match=r"unknown requirement 'P2-XXX-999' .*phase2-conformance requirements"):
        load_settings({"requirements": ["P2-XXX-999"]}, env=REFERENCE)


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_values_are_matched_without_case_and_kept_canonical(spelling: str, tmp_path: Path) -> None:
    settings = _load("requirements", "p2-hlt-001", spelling, tmp_path, classes="Health", operations="getliveness")
    assert settings.requirement_filter == frozenset({"P2-HLT-001"})  # type: ignore[attr-defined]
    assert settings.classes == frozenset({"health"})  # type: ignore[attr-defined]
    assert settings.operation_filter == frozenset({"getLiveness"})  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"requirements": ["P2-AUTH-001"], "classes": ["contract"]}, "is in class auth, which the selected classes"),
        ({"requirements": ["P2-HLT-001"], "operations": ["listWorlds"]}, "covers none of the selected operations"),
        ({"classes": ["health"], "operations": ["listWorlds"]}, "operation listWorlds is covered by no requirement"),
        (
            {"classes": ["health"], "operations": ["getLiveness", "listWorlds"]},
            "operation listWorlds is covered by no requirement of the selected classes",
        ),
        ({"classes": ","}, "selects no conformance class"),
    ],
)
def test_a_selection_that_matches_nothing_does_not_start(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(values, env=REFERENCE)


def test_an_operation_may_be_selected_as_traffic_for_a_selected_requirement() -> None:
    # A rule about deletions (judged on deleteWorld and deleteRuntime) needs createWorld to make a world.
    settings = load_settings(
        {"classes": "contract", "requirements": ["P2-CON-010"], "operations": ["createWorld", "deleteWorld"]},
        env=REFERENCE,
    )
    assert settings.operation_filter == frozenset({"createWorld", "deleteWorld"})
