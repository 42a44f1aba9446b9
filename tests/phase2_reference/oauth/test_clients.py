"""The client registry: loading clients.yaml and authenticating."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.clients import reader
from phase2_reference.config import ConfigError
from phase2_reference.oauth.clients import ClientRegistry
from tests.phase2_reference.conftest import REPO

SCOPES = frozenset({"worlds:read", "worlds:write", "runtimes:read", "runtimes:write", "engine:read", "events:read"})


def test_the_fixture_clients() -> None:
    registry = ClientRegistry.load(REPO / "fixtures" / "clients.yaml", SCOPES)
    assert len(registry) == 3
    client = registry.authenticate(reader().client_id, reader().client_secret)
    assert client is not None
    assert client.tenant == "tenant-a"
    assert "worlds:write" not in client.scopes
    assert registry.authenticate(reader().client_id, "wrong") is None
    assert registry.authenticate("nobody", reader().client_secret) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clients: [", "not valid YAML"),
        ("other: 1", "no `clients:` list"),
        ("clients: [{client_id: a}]", "entry 0 needs"),
        ("clients: [{client_id: a, client_secret: s, tenant: t, scopes: [admin:all]}]", "unknown scopes"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "clients.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        ClientRegistry.load(path, SCOPES)
    with pytest.raises(ConfigError, match="cannot read"):
        ClientRegistry.load(tmp_path / "missing.yaml", SCOPES)
