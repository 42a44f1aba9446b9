"""Configuration values and their validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from phase2_reference.config import Config, ConfigError, TrustedIssuer, locate_fixture, parse_flags


def test_defaults() -> None:
    config = Config()
    assert config.data_dir == Path(".phase2-reference")
    assert config.effective_issuer == "http://127.0.0.1:8080"
    assert config.clients_file == locate_fixture("clients.yaml")
    assert Config(host="::1", port=9).origin == "http://[::1]:9"
    assert Config(issuer="https://issuer.example/").effective_issuer == "https://issuer.example"


@pytest.mark.parametrize(
    "settings",
    [{"token_ttl": 0}, {"runtime_step_ms": 0}, {"rate_limit": 0}, {"log_level": "loud"}, {"port": 70000}],
)
def test_invalid_values(settings: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        Config(**settings)  # type: ignore[arg-type]


def test_flags() -> None:
    known = ("world-preview", "engine-v2")
    assert parse_flags(" world-preview , engine-v2 ,", known) == {"world-preview", "engine-v2"}
    assert parse_flags(None, known) == frozenset()
    with pytest.raises(ConfigError, match="unknown feature flag beta"):
        parse_flags("beta", known)


def test_trusted_issuer_specs(tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text("{}")
    assert TrustedIssuer.parse(f"https://i.example={jwks}") == TrustedIssuer("https://i.example", str(jwks))
    url = TrustedIssuer.parse("https://i.example=https://i.example/jwks?x=1")
    assert url.is_url
    assert url.jwks_source == "https://i.example/jwks?x=1"
    for bad in ("x", "=y", "x=", f"x={tmp_path / 'missing.json'}"):
        with pytest.raises(ConfigError):
            TrustedIssuer.parse(bad)
