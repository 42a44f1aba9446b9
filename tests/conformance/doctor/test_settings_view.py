"""The doctor's setting lines: the value, where it came from, and never a secret."""

from __future__ import annotations

from pathlib import Path

from conformance.client.secrets import Redactor
from conformance.doctor.findings import render
from conformance.doctor.settings_view import setting_findings
from conformance.settings import load_settings

SECRET = "a-deployment-secret-0123456789"


def lines(tmp_path: Path) -> list[str]:
    config = tmp_path / "phase2.toml"
    config.write_text('feature_flags = ["world-preview"]\nrequest_timeout = 7\n', encoding="utf-8")
    settings = load_settings(
        {"config": str(config), "client_id": "ci-client"},
        env={"PHASE2_BASE_URL": "https://api.example.com/v2", "PHASE2_CLIENT_SECRET": SECRET},
    )
    return [render(finding, Redactor(settings.secrets())) for finding in setting_findings(settings)]


def test_each_setting_names_its_source(tmp_path: Path) -> None:
    shown = lines(tmp_path)
    config = tmp_path / "phase2.toml"
    base_url = "✓ setting: --base-url (PHASE2_BASE_URL) = https://api.example.com/v2"
    assert f"{base_url} [from environment PHASE2_BASE_URL]" in shown
    assert "✓ setting: --client-id (PHASE2_CLIENT_ID) = ci-client [from the command line]" in shown
    assert f"✓ setting: --flags (PHASE2_FEATURE_FLAGS) = world-preview [from config file {config}]" in shown
    assert f"✓ setting: --request-timeout = 7s [from config file {config}]" in shown
    assert "✓ setting: --profile (PHASE2_PROFILE) = standard [from defaults]" in shown
    assert "✓ setting: PHASE2_OTHER_TENANT_CLIENT_ID = (not set) [from defaults]" in shown


def test_a_secret_shows_only_that_it_is_set(tmp_path: Path) -> None:
    shown = lines(tmp_path)
    secret = "✓ setting: PHASE2_CLIENT_SECRET = *** (set)"
    assert f"{secret} [from environment PHASE2_CLIENT_SECRET]" in shown
    assert not any(SECRET in line or SECRET[:12] in line for line in shown)


def test_settings_are_named_as_the_user_spells_them(tmp_path: Path) -> None:
    # A flag, a PHASE2_* variable or a config key: never the internal name (`request_timeout`).
    labels = [line.removeprefix("✓ setting: ").split(" = ", 1)[0] for line in lines(tmp_path) if " = " in line]
    assert len(labels) >= 17
    for shown in labels:
        assert shown.startswith(("--", "PHASE2_", "config key ")), shown
