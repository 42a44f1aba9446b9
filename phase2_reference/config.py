"""The reference server's configuration: one frozen value, validated where it is built.

The CLI builds it from flags and environment; tests build it directly. Anything invalid raises
`ConfigError`, which the CLI turns into one line on stderr and exit code 2.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = Path(".phase2-reference")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
OTLP_ENCODINGS = ("protobuf", "json")


class ConfigError(ValueError):
    """A setting is invalid; the message is one line meant for the operator."""


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An extra issuer whose tokens are accepted, with its JWKS from a URL or a file."""

    issuer: str
    jwks_source: str

    @property
    def is_url(self) -> bool:
        return self.jwks_source.startswith(("http://", "https://"))

    @classmethod
    def parse(cls, spec: str) -> TrustedIssuer:
        issuer, separator, source = spec.partition("=")
        issuer, source = issuer.strip(), source.strip()
        if not separator or not issuer or not source:
            raise ConfigError(f"--trust-issuer expects ISSUER=JWKS_URL_OR_FILE, got {spec!r}")
        trusted = cls(issuer, source)
        if not trusted.is_url and not Path(source).is_file():
            raise ConfigError(f"--trust-issuer: JWKS file {source!r} does not exist")
        return trusted


def locate_fixture(name: str) -> Path | None:
    """A file of fixtures/: in a source checkout, or in an installed wheel's copy."""
    package_dir = Path(__file__).resolve().parent
    candidates = [package_dir.parent / "fixtures" / name]
    spec = importlib.util.find_spec("conformance")
    if spec is not None and spec.submodule_search_locations:
        candidates.extend(Path(location) / "_fixture_files" / name for location in spec.submodule_search_locations)
    return next((candidate for candidate in candidates if candidate.is_file()), None)


def default_clients_file() -> Path:
    return locate_fixture("clients.yaml") or Path("fixtures/clients.yaml")


@dataclass(frozen=True, slots=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path | None = DEFAULT_DATA_DIR  # None keeps everything in memory
    feature_flags: frozenset[str] = frozenset()
    clients_file: Path = field(default_factory=default_clients_file)
    seed_file: Path | None = None
    issuer: str | None = None  # None: the server's own origin
    trusted_issuers: tuple[TrustedIssuer, ...] = ()
    token_ttl: int = 900
    runtime_step_ms: int = 100
    rate_limit: float | None = None  # requests per second per client; None: unlimited
    log_level: str = "info"
    test_controls: bool = False
    faults: frozenset[str] = frozenset()
    otlp_endpoint: str | None = None
    otlp_encoding: str = "protobuf"  # OTLP/HTTP body: protobuf or json (both are the OTLP specification's)
    # A runtime that cannot start fails straight from pending instead of after starting; the contract
    # allows both, so a conformant deployment may do either.
    fail_from_pending: bool = False

    def __post_init__(self) -> None:
        if self.token_ttl < 1:
            raise ConfigError("--token-ttl must be at least 1 second")
        if self.runtime_step_ms < 1:
            raise ConfigError("--runtime-step-ms must be at least 1")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ConfigError("--rate-limit must be a positive number of requests per second")
        if self.otlp_encoding not in OTLP_ENCODINGS:
            raise ConfigError(f"--otlp-encoding must be one of {', '.join(OTLP_ENCODINGS)}, got {self.otlp_encoding!r}")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(f"--log-level must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"--port must be between 0 and 65535, got {self.port}")

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def effective_issuer(self) -> str:
        return (self.issuer or self.origin).rstrip("/")


def parse_flags(text: str | None, known: Iterable[str]) -> frozenset[str]:
    """`world-preview,engine-v2` → the set; an unknown name is a ConfigError."""
    names = frozenset(part.strip() for part in (text or "").split(",") if part.strip())
    unknown = sorted(names - set(known))
    if unknown:
        raise ConfigError(f"unknown feature flag {', '.join(unknown)}; known flags: {', '.join(sorted(known))}")
    return names
