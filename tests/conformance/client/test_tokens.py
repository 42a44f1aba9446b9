"""Tokens against the real reference: discovery, refresh before expiry, a provider that goes away."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator

import pytest

from benchmarks.clients import admin
from conformance.client.secrets import Redactor
from conformance.client.tokens import TokenManager
from conformance.client.transport import make_client
from conformance.errors import AuthError
from conformance.settings import load_settings
from phase2_reference.config import Config
from phase2_reference.testing.launcher import running_server
from tests.conftest import SuiteRun

CREDENTIALS = admin().suite_env()


@pytest.fixture
def short_lived_reference() -> Iterator[str]:
    """The reference issuing tokens that live three seconds."""
    with running_server(dataclasses.replace(Config(data_dir=None, log_level="error"), token_ttl=3)) as base_url:
        yield base_url


def test_tokens_are_refreshed_before_they_expire(short_lived_reference: str) -> None:
    settings = load_settings({"base_url": short_lived_reference}, env=CREDENTIALS)
    redactor = Redactor()
    with make_client(settings) as client:
        tokens = TokenManager(settings, client, redactor)
        assert tokens.metadata().token_endpoint.endswith("/oauth2/token")
        first = tokens.token()
        reused = tokens.token() == first  # still fresh (compared here, so no token reaches a report)
        assert reused
        time.sleep(2.0)  # under half of its three seconds left
        second = tokens.token()
        refreshed = second != first
        assert refreshed
        assert tokens.refreshes == 1
        answer = client.get(short_lived_reference + "/worlds", headers={"Authorization": f"Bearer {second}"})
        assert answer.status_code == 200
    assert first not in redactor.text(f"token {first}"), "every token is registered for masking"


def test_a_provider_that_goes_away_is_an_auth_error() -> None:
    with running_server(dataclasses.replace(Config(data_dir=None, log_level="error"), token_ttl=3)) as base_url:
        settings = load_settings({"base_url": base_url, "request_timeout": 2}, env=CREDENTIALS)
        client = make_client(settings)
        tokens = TokenManager(settings, client, Redactor())
        tokens.token()
    time.sleep(2.5)
    with pytest.raises(AuthError, match="token endpoint"):
        tokens.token()
    client.close()


def test_a_run_longer_than_the_token_lifetime_passes(
    short_lived_reference: str, run_suite: Callable[..., SuiteRun]
) -> None:
    run = run_suite("--base-url", short_lived_reference, "--profile", "quick", "--classes", "contract,semantic",
                    env=CREDENTIALS)  # fmt: skip
    assert run.summary["duration_seconds"] > 3, "the run outlived its first token"
    assert run.exit_code == 0, run.stdout[-3000:]
