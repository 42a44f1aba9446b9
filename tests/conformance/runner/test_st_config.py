from __future__ import annotations

import pytest
from schemathesis.config import SchemathesisConfig

from conformance.contract import load_contract
from conformance.contract.expectations import positive_statuses, status_allowed
from conformance.profiles import PROFILES
from conformance.runner.st_config import enabled_operations, schemathesis_config
from conformance.settings import load_settings

ENV = {"PHASE2_BASE_URL": "http://t/v2", "PHASE2_CLIENT_ID": "c", "PHASE2_CLIENT_SECRET": "secret-value"}


@pytest.mark.parametrize("profile", list(PROFILES))
def test_the_schemathesis_config_of_every_profile_is_valid(profile: str) -> None:
    settings = load_settings({"profile": profile}, env=ENV)
    config = SchemathesisConfig.from_dict(schemathesis_config(settings, "http://t/v2"))
    assert config.seed == settings.seed


def test_positive_expectations_come_from_the_contract() -> None:
    contract = load_contract()
    update = positive_statuses(contract.operation("updateWorld"))
    assert "412" in update and "409" in update and "404" in update
    assert not {"400", "413", "415", "422", "428"} & set(update)
    assert "422" in positive_statuses(contract.operation("startRuntime"))
    assert "400" in positive_statuses(contract.operation("refreshToken"))
    assert status_allowed(204, positive_statuses(contract.operation("deleteWorld")))
    assert not status_allowed(422, positive_statuses(contract.operation("createWorld")))


def test_flagged_operations_run_only_with_their_flag() -> None:
    contract = load_contract()
    off = {op.operation_id for op in enabled_operations(load_settings({}, env=ENV), contract)}
    on = {
        op.operation_id
        for op in enabled_operations(load_settings({"feature_flags": "world-preview"}, env=ENV), contract)
    }
    assert "previewWorld" not in off and "getScheduler" not in off
    assert "previewWorld" in on and "getScheduler" not in on
