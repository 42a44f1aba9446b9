"""The reference's test-only OAuth clients, read from `fixtures/clients.yaml`: the one place they are written.

The benchmarks and the tests log in with these clients and hand them to the suite as a vendor
hands over its own (the `PHASE2_*CLIENT_ID` / `*CLIENT_SECRET` variables). The reference loads the
same file by default, so a client changed there is changed everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from conformance.contract.files import fixtures_dir

# The suite's environment variable prefix for the client of each role of the fixture.
SUITE_PREFIX = {"admin": "PHASE2_", "other-tenant": "PHASE2_OTHER_TENANT_", "read-only": "PHASE2_READ_ONLY_"}


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_secret: str
    tenant: str
    role: str  # admin (the suite's primary client), other-tenant, read-only
    scopes: tuple[str, ...]

    def login_body(self) -> dict[str, object]:
        """The JSON body of POST /auth/login for this client."""
        return {"client_id": self.client_id, "client_secret": self.client_secret}

    def suite_env(self) -> dict[str, str]:
        """This client as the suite reads it from the environment."""
        prefix = SUITE_PREFIX[self.role]
        return {prefix + "CLIENT_ID": self.client_id, prefix + "CLIENT_SECRET": self.client_secret}


@cache
def load_clients(path: Path | None = None) -> tuple[OAuthClient, ...]:
    path = path or fixtures_dir() / "clients.yaml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["clients"]
    return tuple(
        OAuthClient(
            client_id=str(entry["client_id"]),
            client_secret=str(entry["client_secret"]),
            tenant=str(entry["tenant"]),
            role=str(entry["role"]),
            scopes=tuple(map(str, entry["scopes"])),
        )
        for entry in entries
    )


def client(role: str) -> OAuthClient:
    """The fixture's client with this role; a missing role is a broken fixture, never a silent default."""
    matches = [each for each in load_clients() if each.role == role]
    if len(matches) != 1:
        raise LookupError(f"fixtures/clients.yaml has {len(matches)} clients with role {role!r}, expected one")
    return matches[0]


def admin() -> OAuthClient:
    """The full-scope client of tenant A: the suite's primary client."""
    return client("admin")


def other_tenant() -> OAuthClient:
    """The full-scope client of tenant B."""
    return client("other-tenant")


def reader() -> OAuthClient:
    """Tenant A's read-only client."""
    return client("read-only")


def suite_env() -> dict[str, str]:
    """Every client of the fixture as the suite's environment variables (primary, other tenant, read-only)."""
    env: dict[str, str] = {}
    for each in load_clients():
        env.update(each.suite_env())
    return env
