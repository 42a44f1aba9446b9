"""The OAuth clients the reference knows, loaded from a clients.yaml file.

Secrets are compared in constant time, and an unknown client costs the same comparison as a
known one, so neither the secret nor the existence of a client leaks through timing.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

import yaml

from phase2_reference.config import ConfigError


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    secret_digest: bytes
    tenant: str
    scopes: frozenset[str]


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


_UNKNOWN_CLIENT_DIGEST = _digest("no client has this secret")


class ClientRegistry:
    def __init__(self, clients: list[Client]) -> None:
        self._clients = {client.client_id: client for client in clients}

    def __len__(self) -> int:
        return len(self._clients)

    def authenticate(self, client_id: str, secret: str) -> Client | None:
        client = self._clients.get(client_id)
        expected = client.secret_digest if client is not None else _UNKNOWN_CLIENT_DIGEST
        matches = hmac.compare_digest(expected, _digest(secret))
        return client if client is not None and matches else None

    @classmethod
    def load(cls, path: Path, known_scopes: frozenset[str]) -> ClientRegistry:
        try:
            with path.open(encoding="utf-8") as handle:
                raw = yaml.safe_load(handle)
        except OSError as exc:
            raise ConfigError(f"cannot read clients file {path}: {exc.strerror or exc}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"clients file {path} is not valid YAML") from exc
        entries = raw.get("clients") if isinstance(raw, dict) else None
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f"clients file {path} has no `clients:` list")
        clients = []
        for index, entry in enumerate(entries):
            try:
                scopes = frozenset(str(scope) for scope in entry["scopes"])
                client = Client(
                    client_id=str(entry["client_id"]),
                    secret_digest=_digest(str(entry["client_secret"])),
                    tenant=str(entry["tenant"]),
                    scopes=scopes,
                )
            except (KeyError, TypeError) as exc:
                raise ConfigError(
                    f"clients file {path}: entry {index} needs client_id, client_secret, tenant and scopes"
                ) from exc
            unknown = sorted(scopes - known_scopes)
            if unknown:
                raise ConfigError(f"clients file {path}: client {client.client_id} has unknown scopes {unknown}")
            clients.append(client)
        return cls(clients)
