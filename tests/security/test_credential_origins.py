"""The client secret goes only to the provider the user named (or an origin the user trusts).

Metadata naming another issuer, a token endpoint on another origin, a token endpoint answering a
redirect to elsewhere: each is exit 3 in one line, and the other origin (a thief on its own
loopback socket) receives nothing. `--trust-token-origin` is the user's explicit way to allow it.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from conformance.client.secrets import Redactor
from conformance.client.tokens import TokenManager
from conformance.client.transport import make_client
from conformance.errors import AuthError
from conformance.settings import load_settings
from tests.hostile import servers
from tests.security.hostile import (
    CLIENT_SECRET,
    CREDENTIALS,
    HostileDeployment,
    Reply,
    Request,
    deployment,
    run_against,
)


class Thief:
    """Another origin: records every request; optionally forwards it to the reference."""

    def __init__(self, forward_to: HostileDeployment | None = None) -> None:
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.forward_to = forward_to
        self.server = servers.HostileServer(self._handle)
        self.url = self.server.url

    def _handle(self, conn: object) -> None:
        import socket

        assert isinstance(conn, socket.socket)
        request = Request.parse(servers._read_whole_request(conn))
        with self.lock:
            self.requests.append(request)
        reply = self.forward_to.forward(request) if self.forward_to else Reply(404)
        conn.sendall(reply.encode())

    def saw_secret(self) -> bool:
        return any(
            "authorization" in r.headers or CLIENT_SECRET.encode() in r.body or b"client_secret" in r.body
            for r in self.requests
        )


@contextlib.contextmanager
def thief_and_deployment(
    metadata: Callable[[HostileDeployment, Thief], dict[str, str]], forward: bool = False
) -> Iterator[tuple[HostileDeployment, Thief]]:
    holder: dict[str, Thief] = {}

    def answer(hostile: HostileDeployment, request: Request) -> Reply | None:
        if request.path.startswith("/.well-known/oauth-authorization-server"):
            document = metadata(hostile, holder["thief"])
            return Reply(200, json.dumps(document).encode(), [("Content-Type", "application/json")])
        return None

    with deployment(answer) as hostile:
        thief = Thief(hostile if forward else None)
        holder["thief"] = thief
        with thief.server:
            yield hostile, thief


def good_metadata(hostile: HostileDeployment) -> dict[str, str]:
    return {
        "issuer": hostile.url,
        "token_endpoint": hostile.url + "/oauth2/token",
        "jwks_uri": hostile.url + "/.well-known/jwks.json",
    }


CASES: dict[str, tuple[Callable[[HostileDeployment, Thief], dict[str, str]], str]] = {
    "issuer is another origin": (
        lambda hostile, thief: {**good_metadata(hostile), "issuer": thief.url},
        "names issuer",
    ),
    "token endpoint on another origin": (
        lambda hostile, thief: {**good_metadata(hostile), "token_endpoint": thief.url + "/oauth2/token"},
        "is on another origin",
    ),
    "issuer and token endpoint both elsewhere": (
        lambda hostile, thief: {**good_metadata(hostile), "issuer": thief.url, "token_endpoint": thief.url + "/t"},
        "names issuer",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_metadata_sending_the_secret_elsewhere_is_refused(case: str, tmp_path: Path) -> None:
    metadata, reason = CASES[case]
    with thief_and_deployment(metadata) as (hostile, thief):
        run = run_against(hostile, tmp_path, "--classes", "health")
    assert run.exit_code == 3, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "refused" in lines[0] and reason in lines[0], run.stderr
    assert "--trust-token-origin" in lines[0]
    assert thief.requests == [], "the other origin received nothing"
    assert hostile.client_secrets == set(), "the secret was not sent at all"
    assert run.summary["verdict"] == "error"


def test_an_origin_the_user_trusts_receives_the_secret(tmp_path: Path) -> None:
    metadata, _ = CASES["token endpoint on another origin"]
    with thief_and_deployment(metadata, forward=True) as (hostile, thief):
        run = run_against(hostile, tmp_path, "--classes", "health", "--trust-token-origin", thief.url)
    assert run.exit_code == 0, run.stderr + run.stdout
    assert thief.saw_secret(), "the trusted origin got the token request"


def test_a_token_endpoint_redirecting_elsewhere_does_not_forward_the_secret(tmp_path: Path) -> None:
    holder: dict[str, Thief] = {}

    def answer(hostile: HostileDeployment, request: Request) -> Reply | None:
        if request.path.startswith("/oauth2/token"):
            return Reply(307, b"", [("Location", holder["thief"].url + "/oauth2/token")])
        return None

    with deployment(answer) as hostile:
        thief = holder["thief"] = Thief()
        with thief.server:
            run = run_against(hostile, tmp_path, "--classes", "health")
    assert run.exit_code == 3, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "token endpoint refused" in lines[0] and "307" in lines[0], run.stderr
    assert thief.requests == []


def _provider(metadata: dict[str, str]) -> httpx.MockTransport:
    """An https provider (outside the suite) publishing `metadata`; records token requests."""

    def handle(request: httpx.Request) -> httpx.Response:
        document = metadata if request.url.path.startswith("/.well-known/") else {"access_token": "issued-token-value"}
        # A stream, as from the network: the suite reads every body itself, under its limits.
        return httpx.Response(200, stream=httpx.ByteStream(json.dumps(document).encode()))

    return httpx.MockTransport(handle)


@pytest.mark.parametrize("trusted", [False, True])
def test_a_downgrade_from_https_to_http_is_refused_unless_trusted(trusted: bool) -> None:
    provider = "https://login.example"
    metadata = {"issuer": provider, "token_endpoint": "http://login.example/oauth2/token"}
    values = {"base_url": "https://api.example/v2", "auth_provider": provider}
    if trusted:
        values["trust_token_origins"] = "http://login.example"
    settings = load_settings(values, env=CREDENTIALS)
    with make_client(settings) as client:
        client._transport = _provider(metadata)
        tokens = TokenManager(settings, client, Redactor())
        if trusted:
            assert tokens.token() == "issued-token-value"
        else:
            with pytest.raises(AuthError, match="is not https"):
                tokens.token()


def test_a_trusted_origin_must_be_an_origin() -> None:
    from conformance.errors import ConfigError

    with pytest.raises(ConfigError, match="must be an origin"):
        load_settings(
            {"base_url": "https://api.example/v2", "trust_token_origins": "https://x.example/path"}, env=CREDENTIALS
        )
