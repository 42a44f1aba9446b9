"""Scenario checks: the semantic, auth, health and telemetry classes, one item per check."""

from __future__ import annotations

import pytest

from conformance.checks import load_checks
from conformance.checks.registry import REGISTRY, CheckSpec
from conformance.plugin import active_settings
from conformance.runner.scenarios import run_scenario, selected_requirements
from conformance.runner.session import RunSession

load_checks(active_settings().check_modules)
SCENARIOS = REGISTRY.of_kind("scenario")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[spec.name for spec in SCENARIOS])
def test_scenario(scenario: CheckSpec, phase2_session: RunSession) -> None:
    if not selected_requirements(phase2_session, scenario):
        pytest.skip("none of its requirements is selected")
    run_scenario(phase2_session, scenario)
