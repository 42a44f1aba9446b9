"""Who the suite is at the target, against the embedded reference: the provider's metadata, each
client's token and claims, the roles working as they say, and the test issuer's trust."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import jwt
import pytest

from conformance.client.tokens import TokenManager
from conformance.client.transport import LimitedClient, make_client
from conformance.doctor import identity  # its `test_issuer` would be collected as a test if imported
from conformance.doctor.identity import claims_of, metadata, primary_token, roles
from conformance.peers.token_issuer import TestIssuer
from conformance.runner.session import RunSession
from conformance.settings import Settings
from tests.conftest import reference_session

session = reference_session("auth", prepared=False)


@pytest.fixture
def client(session: RunSession) -> Iterator[LimitedClient]:
    with make_client(session.settings) as client:
        yield client


def _tokens(session: RunSession, client: LimitedClient, settings: Settings | None = None) -> TokenManager:
    return TokenManager(settings or session.settings, client, session.redactor)


def test_claims_are_shown_unverified_and_an_opaque_token_has_none() -> None:
    token = jwt.encode({"iss": "https://idp", "scope": "worlds:read"}, "a-key-of-at-least-32-bytes-length!", "HS256")
    assert claims_of(token) == {"iss": "https://idp", "scope": "worlds:read"}
    assert claims_of("opaque-token-value") == {}


def test_the_reference_s_metadata_and_primary_token(session: RunSession, client: LimitedClient) -> None:
    tokens = _tokens(session, client)
    assert metadata(tokens).ok
    finding, claims = primary_token(tokens, session.contract, session.settings)
    assert finding.ok, finding.detail
    assert finding.detail.startswith("client tenant-a-admin: iss ") and claims["tenant"] == "tenant-a"


def test_a_wrong_secret_is_fatal_and_names_the_client(session: RunSession, client: LimitedClient) -> None:
    secret = type(session.settings.primary.client_secret)("wrong-secret-value")
    primary = dataclasses.replace(session.settings.primary, client_secret=secret)
    settings = dataclasses.replace(session.settings, identities=(primary, *session.settings.identities[1:]))
    finding, claims = primary_token(_tokens(session, client, settings), session.contract, settings)
    assert not finding.ok and finding.fatal and claims == {}
    assert finding.detail.startswith("client tenant-a-admin: ")


def test_the_other_tenant_and_read_only_clients_work_as_their_roles_say(
    session: RunSession, client: LimitedClient
) -> None:
    findings = roles(_tokens(session, client), session.settings, client, "tenant-a", lambda role: ())
    assert [(finding.name, finding.ok) for finding in findings] == [
        ("other-tenant client", True),
        ("read-only client", True),
    ]
    assert "tenant tenant-b" in findings[0].detail


def test_an_other_tenant_client_in_the_primary_tenant_is_refused(session: RunSession, client: LimitedClient) -> None:
    findings = roles(_tokens(session, client), session.settings, client, "tenant-b", lambda role: ("P2-AUTH-015",))
    other = findings[0]
    assert not other.ok and "is in the primary client's tenant tenant-b" in other.detail
    assert other.requirements == ("P2-AUTH-015",)


def test_a_test_issuer_the_deployment_does_not_trust_is_named_with_the_fix(
    session: RunSession, client: LimitedClient
) -> None:
    with TestIssuer() as issuer:
        finding, control = identity.test_issuer(
            issuer, session.settings, client, session.contract, "tenant-a", ("P2-AUTH-003",)
        )
    assert not finding.ok and "was refused (GET /engine answered 401)" in finding.detail
    assert finding.fix.startswith(f"start the deployment trusting issuer {issuer.issuer}")
    assert claims_of(control)["iss"] == issuer.issuer
