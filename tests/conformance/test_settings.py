from __future__ import annotations

from pathlib import Path

import pytest

from conformance.contract.catalog import Level
from conformance.errors import ConfigError, ExitCode
from conformance.profiles import DEFAULT_SEED, PROFILES
from conformance.settings import Secret, load_settings

TARGET_ENV = {
    "PHASE2_BASE_URL": "https://api.example/v2",
    "PHASE2_CLIENT_ID": "ci",
    "PHASE2_CLIENT_SECRET": "s3cr3t-value",
}


def test_defaults_to_the_reference_with_fixture_clients() -> None:
    settings = load_settings({}, env={})
    assert settings.reference
    assert settings.base_url is None
    assert {i.role for i in settings.identities} == {"primary", "other-tenant", "read-only"}
    assert settings.profile is PROFILES["standard"]
    assert settings.seed == DEFAULT_SEED
    assert settings.test_issuer_trusted and settings.reference_controls


def test_environment_names_the_target() -> None:
    settings = load_settings({}, env=TARGET_ENV)
    assert not settings.reference
    assert settings.base_url == "https://api.example/v2"
    assert settings.primary.client_id == "ci"
    assert settings.primary.client_secret.reveal() == "s3cr3t-value"
    assert not settings.test_issuer_trusted
    assert settings.identity("other-tenant") is None


def test_cli_beats_environment_beats_file(tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    config.write_text('profile = "nightly"\nseed = 7\nlog-level = "info"\nfeature-flags = ["engine-v2"]\n')
    settings = load_settings({"config": str(config), "seed": 9}, env={**TARGET_ENV, "PHASE2_PROFILE": "quick"})
    assert settings.seed == 9  # CLI
    assert settings.profile.name == "quick"  # environment over file
    assert settings.log_level == "info"  # file
    assert settings.feature_flags == frozenset({"engine-v2"})
    assert settings.sources["seed"] == "the command line"
    assert settings.sources["profile"] == "environment PHASE2_PROFILE"


def test_a_bare_origin_means_the_contract_server_path() -> None:
    settings = load_settings(
        {"base_url": "http://localhost:8080/"},
        env={k: v for k, v in TARGET_ENV.items() if k != "PHASE2_BASE_URL"},
    )
    assert settings.base_url == "http://localhost:8080/v2"


def test_cli_reference_overrides_environment_base_url() -> None:
    assert load_settings({"reference": True}, env=TARGET_ENV).reference


@pytest.mark.parametrize(
    ("cli", "env", "message"),
    [
        ({"profile": "deep"}, {}, "unknown profile 'deep'"),
        ({"base_url": "ftp://host"}, TARGET_ENV, "must be an http(s) URL"),
        ({"base_url": "http://host:99999/v2"}, TARGET_ENV, "invalid port"),
        ({}, {"PHASE2_BASE_URL": "https://api.example/v2"}, "missing credentials"),
        ({}, {**TARGET_ENV, "PHASE2_CLIENT_SECRET": ""}, "missing credentials"),
        ({"feature_flags": "world-preview,time-travel"}, {}, "unknown feature flag 'time-travel'"),
        ({"classes": "contract,magic"}, {}, "unknown conformance class 'magic'"),
        ({"tls_cert_path": "/nonexistent/cert.pem"}, {}, "not a readable file"),
        ({"seed": "abc"}, {}, "must be an integer"),
        ({"fail_on": "never"}, {}, "must be must or should"),
        ({"log_level": "loud"}, {}, "log_level"),
        ({"reference": True, "base_url": "http://x/v2"}, {}, "either --reference or --base-url"),
        ({"reference_faults": "accept-expired"}, TARGET_ENV, "embedded reference only"),
        ({"time_budget": 0}, {}, "at least 1"),
        ({"max_rate": "fast"}, {}, "max_rate from the command line must be a number"),
        ({"max_rate": 0}, {}, "at least 0.1"),
        ({"outage_start": "docker stop db"}, TARGET_ENV, "give both --outage-start and --outage-end"),
        ({}, {**TARGET_ENV, "PHASE2_OUTAGE_END": "docker start db"}, "outage_end from environment PHASE2_OUTAGE_END"),
        ({"outage_start": " ", "outage_end": "x"}, TARGET_ENV, "must be a non-empty shell command"),
        ({"reference_options": "--rate-limit=5"}, TARGET_ENV, "embedded reference only"),
    ],
)
def test_bad_settings_raise_one_config_error(cli: dict[str, object], env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(cli, env=env)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert raised.value.exit_code is ExitCode.USAGE


def test_an_unusable_client_certificate_is_a_config_error(tmp_path: Path) -> None:
    bogus = tmp_path / "client.pem"
    bogus.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigError, match="not a usable client certificate"):
        load_settings({"tls_cert_path": str(bogus)}, env={})


def test_config_file_rejects_unknown_keys_and_bad_toml(tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('colour = "blue"\n')
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings({"config": str(unknown)}, env={})
    broken = tmp_path / "broken.toml"
    broken.write_text("profile = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({"config": str(broken)}, env={})


def test_secrets_never_show_themselves() -> None:
    settings = load_settings({}, env=TARGET_ENV)
    assert "s3cr3t-value" not in repr(settings)
    assert "s3cr3t-value" not in str(Secret("s3cr3t-value"))
    assert settings.secrets() == ("s3cr3t-value",)


def test_settings_are_immutable() -> None:
    settings = load_settings({}, env={})
    with pytest.raises(AttributeError):
        settings.seed = 1  # type: ignore[misc]


def test_fail_on_should() -> None:
    assert load_settings({"fail_on": "should"}, env={}).fail_on is Level.SHOULD


def test_nightly_without_seed_draws_a_random_one() -> None:
    seeds = {load_settings({"profile": "nightly"}, env={}).seed for _ in range(3)}
    assert len(seeds) > 1


def test_rate_and_outage_settings_come_from_every_source(tmp_path: Path) -> None:
    config = tmp_path / "phase2.toml"
    config.write_text('outage_start = "docker stop db"\noutage_end = "docker start db"\n')
    settings = load_settings({"config": str(config)}, env={**TARGET_ENV, "PHASE2_MAX_RATE": "12.5"})
    assert settings.max_rate == 12.5
    assert (settings.outage_start, settings.outage_end) == ("docker stop db", "docker start db")
    assert load_settings({}, env=TARGET_ENV).max_rate is None
