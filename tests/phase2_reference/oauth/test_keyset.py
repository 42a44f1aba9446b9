"""Verification keys: the reference's own and a trusted issuer's JWKS from a file or a URL."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from phase2_reference.config import ConfigError, TrustedIssuer
from phase2_reference.oauth import keyset as keyset_module
from phase2_reference.oauth.keys import SigningKey
from phase2_reference.oauth.keyset import KeySet, TrustedIssuerKeys
from tests.phase2_reference.conftest import KEYS, TEST_ISSUER, TEST_KID

JWKS = json.loads((KEYS / "test-issuer-jwks.json").read_text())


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = json.dumps(JWKS).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", hits
    server.shutdown()
    server.server_close()


def test_own_and_file_keys() -> None:
    own = SigningKey.generate()
    keyset = KeySet("http://me", own, (TrustedIssuer(TEST_ISSUER, str(KEYS / "test-issuer-jwks.json")),))
    assert keyset.issuers == {"http://me", TEST_ISSUER}
    found = asyncio.run(keyset.find(own.kid))
    assert found is not None
    assert found.issuer == "http://me"
    trusted = asyncio.run(keyset.find(TEST_KID))
    assert trusted is not None
    assert trusted.issuer == TEST_ISSUER
    assert trusted.key_type == "RSA"
    assert asyncio.run(keyset.find("nobody")) is None
    pem = (KEYS / "test-issuer-public.pem").read_bytes()
    assert pem in list(trusted.pem_variants())


def test_url_keys_are_fetched_once_and_refetched_sparingly(
    jwks_server: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, hits = jwks_server
    keyset = KeySet("http://me", SigningKey.generate(), (TrustedIssuer(TEST_ISSUER, url),))
    assert keyset.trusted[0].keys == {}
    assert asyncio.run(keyset.find(TEST_KID)) is not None
    assert asyncio.run(keyset.find(TEST_KID)) is not None
    assert asyncio.run(keyset.find("forged-1")) is None
    assert asyncio.run(keyset.find("forged-2")) is None
    assert len(hits) == 1, "unknown kids within the refetch interval cost no fetch"
    monkeypatch.setattr(keyset_module, "REFETCH_INTERVAL", 0.0)
    assert asyncio.run(keyset.find("forged-3")) is None
    assert len(hits) == 2


def test_an_unreachable_url_is_logged_not_raised() -> None:
    keyset = KeySet("http://me", SigningKey.generate(), (TrustedIssuer(TEST_ISSUER, "http://127.0.0.1:1/jwks"),))
    assert asyncio.run(keyset.find(TEST_KID)) is None


def test_a_bad_jwks_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "jwks.json"
    bad.write_text('{"keys": "no"}')
    with pytest.raises(ConfigError, match="cannot use JWKS file"):
        TrustedIssuerKeys(TrustedIssuer(TEST_ISSUER, str(bad)))


def test_lookups_during_the_first_fetch_wait_for_it(jwks_server: tuple[str, list[str]]) -> None:
    """Concurrent requests with a valid token while the JWKS is being fetched all find the key
    (before, the ones arriving during the fetch were refused: no key yet, no refetch allowed)."""
    url, hits = jwks_server
    keyset = KeySet("http://me", SigningKey.generate(), (TrustedIssuer(TEST_ISSUER, url),))

    async def together() -> list[object]:
        return list(await asyncio.gather(*(keyset.find(TEST_KID) for _ in range(5))))

    found = asyncio.run(together())
    assert all(key is not None for key in found), found
    assert len(hits) == 1, "one fetch serves every lookup waiting for it"
