"""The run's one immutable settings object and the small value objects it holds."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from conformance.contract.catalog import Level
from conformance.profiles import Profile
from conformance.shards import Shard


class Secret:
    """A value that never shows itself in a repr, a log line or a report."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Identity:
    """A client the suite acts as; `role` says what the run uses it for."""

    role: str
    client_id: str
    client_secret: Secret


@dataclass(frozen=True)
class TLSSettings:
    cert_path: Path | None = None  # client certificate for mutual TLS (PEM; may hold the key too)
    key_path: Path | None = None
    ca_path: Path | None = None  # extra trust anchors for the target's certificate


@dataclass(frozen=True)
class Settings:
    """Every field is filled from a row of `schema.SCHEMA` (its `field`) or composed by `loader`."""

    base_url: str | None  # None until the embedded reference is started
    reference: bool
    auth_provider: str | None  # issuer URL; None = the target's own origin
    identities: tuple[Identity, ...]
    log_level: str
    tls: TLSSettings
    feature_flags: frozenset[str]
    profile: Profile
    seed: int
    classes: frozenset[str]
    requirement_filter: frozenset[str]
    operation_filter: frozenset[str]
    time_budget: float
    request_timeout: float
    max_examples: int
    report_dir: Path
    fail_on: Level
    waivers_path: Path | None
    rerun_failed: Path | None
    history_dir: Path | None
    test_issuer_trusted: bool
    test_issuer_port: int
    otlp_receiver_port: int
    callback_host: str  # how the deployment reaches the suite's test issuer and OTLP receiver
    check_modules: tuple[str, ...]  # the user's modules of checks, imported beside the built-in ones
    liveness_budget_ms: float
    reference_faults: tuple[str, ...]
    reference_controls: bool
    run_id: str
    config_file: Path | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    # Setting name → how the user spelled it (`--seed`, `PHASE2_SEED`, `config key 'seed' in F`), for messages.
    labels: Mapping[str, str] = field(default_factory=dict, compare=False)
    require_all: bool = False  # a certification run: a MUST left unverified fails the gate
    warnings: tuple[str, ...] = ()  # one line each, for the faces to print before the run
    workers: int = 1  # work items run at once (threads); see `defaults.default_workers`
    shard: Shard | None = None  # the part of the plan this process runs (`runner.shard`)
    max_rate: float | None = None  # requests per second to the target, over every client; None: unlimited
    # Shell commands that take a component of the deployment away and bring it back (outage checks).
    outage_start: str | None = None
    outage_end: str | None = None
    reference_options: tuple[str, ...] = ()  # extra `serve` options of the embedded reference (test-only)
    # Origins besides the auth provider's own the user allows the client secret to go to (an
    # issuer or token endpoint elsewhere, or over plain http); nothing else receives it.
    trust_token_origins: frozenset[str] = frozenset()

    def identity(self, role: str) -> Identity | None:
        return next((i for i in self.identities if i.role == role), None)

    @property
    def primary(self) -> Identity:
        identity = self.identity("primary")
        assert identity is not None, "settings always hold a primary identity"
        return identity

    def with_base_url(self, base_url: str) -> Settings:
        return replace(self, base_url=base_url)

    def secrets(self) -> tuple[str, ...]:
        """Every secret value the run knows, for masking."""
        return tuple(i.client_secret.reveal() for i in self.identities if i.client_secret.reveal())


def configure_logging(settings: Settings) -> None:
    logging.getLogger("conformance").setLevel(settings.log_level.upper())
