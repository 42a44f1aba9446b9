"""The one immutable settings object of a run, and how it is built.

Precedence, highest first: CLI flags > `PHASE2_*` environment > config file (TOML) > profile
defaults. Every value is validated here, at the boundary; anything wrong raises one `ConfigError`
whose message is a single line naming the setting and its source.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import math
import os
import re
import ssl
import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from conformance.contract.catalog import CLASSES, Level, load_catalog
from conformance.contract.files import fixtures_dir
from conformance.contract.selection import select
from conformance.contract.spec import load_contract
from conformance.errors import ConfigError
from conformance.profiles import DEFAULT_PROFILE, DEFAULT_SEED, PROFILES, Profile
from conformance.shards import Shard, shard_from_ci
from conformance.suggest import did_you_mean

KNOWN_FLAGS = ("world-preview", "engine-v2")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[?[0-9A-Fa-f:.]+\]?")

# Environment variable → setting name. The first seven are the runbook's.
ENVIRONMENT = {
    "PHASE2_BASE_URL": "base_url",
    "PHASE2_AUTH_PROVIDER": "auth_provider",
    "PHASE2_CLIENT_ID": "client_id",
    "PHASE2_CLIENT_SECRET": "client_secret",
    "PHASE2_LOG_LEVEL": "log_level",
    "PHASE2_TLS_CERT_PATH": "tls_cert_path",
    "PHASE2_FEATURE_FLAGS": "feature_flags",
    "PHASE2_TLS_KEY_PATH": "tls_key_path",
    "PHASE2_TLS_CA_PATH": "tls_ca_path",
    "PHASE2_PROFILE": "profile",
    "PHASE2_SEED": "seed",
    "PHASE2_OTHER_TENANT_CLIENT_ID": "other_tenant_client_id",
    "PHASE2_OTHER_TENANT_CLIENT_SECRET": "other_tenant_client_secret",
    "PHASE2_READ_ONLY_CLIENT_ID": "read_only_client_id",
    "PHASE2_READ_ONLY_CLIENT_SECRET": "read_only_client_secret",
    "PHASE2_REPORT_DIR": "report_dir",
    "PHASE2_TIME_BUDGET": "time_budget",
    "PHASE2_CALLBACK_HOST": "callback_host",
    "PHASE2_CHECK_MODULES": "check_modules",
    "PHASE2_REFERENCE": "reference",
    "PHASE2_REQUIRE_ALL": "require_all",
    "PHASE2_CLASSES": "classes",
    "PHASE2_REQUIREMENTS": "requirements",
    "PHASE2_OPERATIONS": "operations",
    "PHASE2_WORKERS": "workers",
    "PHASE2_SHARD": "shard",
    "PHASE2_MAX_RATE": "max_rate",
    "PHASE2_OUTAGE_START": "outage_start",
    "PHASE2_OUTAGE_END": "outage_end",
    "PHASE2_TRUST_TOKEN_ORIGIN": "trust_token_origins",
}
SETTING_NAMES = frozenset(ENVIRONMENT.values()) | {
    "reference",
    "classes",
    "requirements",
    "operations",
    "request_timeout",
    "max_examples",
    "fail_on",
    "waivers",
    "rerun_failed",
    "history_dir",
    "test_issuer_trusted",
    "test_issuer_port",
    "otlp_receiver_port",
    "callback_host",
    "check_modules",
    "liveness_budget_ms",
    "reference_faults",
    "reference_controls",
    "reference_options",
    "config",
    "require_all",
}
NO_TARGET = "no target: give --base-url URL or PHASE2_BASE_URL, or --reference to test the embedded reference server"


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
    require_all: bool = False  # a certification run: a MUST left unverified fails the gate
    warnings: tuple[str, ...] = ()  # one line each, for the faces to print before the run
    workers: int = 1  # work items run at once (threads); see `default_workers`
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


def _env_values(env: Mapping[str, str]) -> dict[str, tuple[Any, str]]:
    return {name: (env[var], f"environment {var}") for var, name in ENVIRONMENT.items() if env.get(var)}


def unknown_environment(env: Mapping[str, str]) -> tuple[str, ...]:
    """A warning per `PHASE2_*` variable the suite does not read: a typo must not go unnoticed."""
    return tuple(
        f"ignoring unknown environment variable {var}{did_you_mean(var, ENVIRONMENT)}"
        for var in sorted(env)
        if var.startswith("PHASE2_") and var not in ENVIRONMENT
    )


def _file_values(path: Path) -> dict[str, tuple[Any, str]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    values: dict[str, tuple[Any, str]] = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in SETTING_NAMES or name == "config":
            known = sorted(n.replace("_", "-") for n in SETTING_NAMES - {"config"})
            hint = did_you_mean(key.replace("_", "-"), known)
            raise ConfigError(f"config file {path}: unknown setting {key!r}{hint}")
        values[name] = (value, f"config file {path}")
    return values


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple | set | frozenset):
        return [str(part).strip() for part in value if str(part).strip()]
    raise ConfigError(f"expected a list, got {value!r}")


def _as_bool(value: Any, name: str, source: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
        return value.lower() in {"1", "true", "yes", "on"}
    raise ConfigError(f"{name} from {source} must be true or false, got {value!r}")


def _as_number(
    value: Any, name: str, source: str, *, minimum: float, integer: bool = False, maximum: float = math.inf
) -> float:
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError, OverflowError):
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"{name} from {source} must be {kind}, got {value!r}") from None
    if not math.isfinite(number):
        raise ConfigError(f"{name} from {source} must be a finite number, got {value!r}")
    if number < minimum:
        raise ConfigError(f"{name} from {source} must be at least {minimum:g}, got {value!r}")
    if number > maximum:
        raise ConfigError(f"{name} from {source} must be at most {maximum:g}, got {value!r}")
    return number


def _as_host(value: Any, name: str, source: str) -> str:
    text = str(value).strip()
    if not HOST.fullmatch(text):
        raise ConfigError(f"{name} from {source} must be a host name or IP address, got {text!r}")
    return text


def _as_modules(value: Any, name: str, source: str) -> tuple[str, ...]:
    modules = tuple(_as_list(value))
    for module in modules:
        if not all(part.isidentifier() for part in module.split(".")):
            raise ConfigError(f"{name} from {source}: {module!r} is not a module name (dotted, like my_checks.api)")
    return modules


def _normalise_url(value: Any, name: str, source: str, *, api_root: bool) -> str:
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"{name} from {source} must be an http(s) URL with a host, got {text!r}")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ConfigError(f"{name} from {source} has an invalid port: {text!r}") from None
    if parts.query or parts.fragment:
        raise ConfigError(f"{name} from {source} must not have a query or fragment: {text!r}")
    path = parts.path.rstrip("/")
    if api_root and not path:
        # A bare origin means the contract's own server path.
        path = "/v2"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _readable_file(value: Any, name: str, source: str) -> Path:
    path = Path(str(value)).expanduser()
    if not path.is_file():
        raise ConfigError(f"{name} from {source} is not a readable file: {path}")
    try:
        path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{name} from {source} cannot be read: {path}: {exc.strerror}") from None
    return path


def _precedence(origin: str) -> int:
    """How high a value's source ranks: command line over environment over config file."""
    if origin == "the command line":
        return 2
    return 1 if origin.startswith("environment") else 0


def _writable_dir(value: Any, name: str, source: str) -> Path:
    """A directory the run can write into, or can create: checked now, not after the whole run."""
    path = Path(str(value)).expanduser()
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        what = "is not a directory" if existing == path else f"cannot be created: {existing} is not a directory"
        raise ConfigError(f"{name} from {source} {what}: {path}")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "is not writable" if existing == path else f"cannot be created: {existing} is not writable"
        raise ConfigError(f"{name} from {source} {what}: {path}")
    return path


def _check_client_certificate(tls: TLSSettings, source: str) -> None:
    if tls.cert_path is None:
        return
    context = ssl.create_default_context()
    try:
        context.load_cert_chain(str(tls.cert_path), str(tls.key_path) if tls.key_path else None)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(
            f"tls_cert_path from {source} is not a usable client certificate and key ({tls.cert_path}): "
            f"{getattr(exc, 'reason', None) or exc}"
        ) from None


def _reference_identities() -> tuple[Identity, ...]:
    import yaml  # the fixtures are YAML; only reference runs read them

    path = fixtures_dir() / "clients.yaml"
    try:
        clients = yaml.safe_load(path.read_text(encoding="utf-8"))["clients"]
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot load the test-only clients {path}: {exc}") from None
    identities = []
    for client in clients:
        role = "primary" if client["role"] == "admin" else client["role"]
        identities.append(Identity(role, client["client_id"], Secret(client["client_secret"])))
    return tuple(identities)


def load_settings(
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Build the run's settings from CLI values (None = not given), the environment and a config file."""
    cli = {k: v for k, v in (cli or {}).items() if v is not None and v != () and v != []}
    env = os.environ if env is None else env
    unknown = set(cli) - SETTING_NAMES
    if unknown:
        raise ConfigError(f"unknown setting {sorted(unknown)[0]!r}")

    config_value = cli.get("config")
    config_file = _readable_file(config_value, "config", "the command line") if config_value else None
    merged: dict[str, tuple[Any, str]] = {}
    if config_file is not None:
        merged.update(_file_values(config_file))
    merged.update(_env_values(env))
    merged.update({name: (value, "the command line") for name, value in cli.items() if name != "config"})

    def value(name: str, default: Any = None) -> Any:
        return merged[name][0] if name in merged else default

    def source(name: str) -> str:
        return merged[name][1] if name in merged else "defaults"

    profile_name = str(value("profile", DEFAULT_PROFILE))
    if profile_name not in PROFILES:
        raise ConfigError(
            f"unknown profile {profile_name!r} from {source('profile')}{did_you_mean(profile_name, PROFILES)}"
            f" (choose one of {', '.join(PROFILES)})"
        )
    profile = PROFILES[profile_name]

    reference = _as_bool(value("reference", False), "reference", source("reference"))
    if reference and "base_url" in merged:
        # Both name the target: the higher source wins; in the same source they contradict.
        base_rank, reference_rank = _precedence(source("base_url")), _precedence(source("reference"))
        if base_rank == reference_rank:
            raise ConfigError("give either --reference or --base-url, not both")
        if base_rank > reference_rank:
            reference = False
        else:
            merged.pop("base_url")
    base_url = None
    if value("base_url") is not None:
        base_url = _normalise_url(value("base_url"), "base_url", source("base_url"), api_root=True)
    elif not reference:
        # Never a silent fallback: a mistyped variable must not turn into a run against the reference.
        typos = unknown_environment(env)
        raise ConfigError(NO_TARGET + (f" ({typos[0]})" if typos else ""))

    auth_provider = None
    if value("auth_provider") is not None:
        auth_provider = _normalise_url(value("auth_provider"), "auth_provider", source("auth_provider"), api_root=False)

    identities = _identities(value, source, reference)

    log_level = str(value("log_level", "warning")).lower()
    if log_level not in LOG_LEVELS:
        raise ConfigError(
            f"log_level from {source('log_level')} must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}"
        )

    tls = TLSSettings(
        cert_path=_readable_file(value("tls_cert_path"), "tls_cert_path", source("tls_cert_path"))
        if value("tls_cert_path")
        else None,
        key_path=_readable_file(value("tls_key_path"), "tls_key_path", source("tls_key_path"))
        if value("tls_key_path")
        else None,
        ca_path=_readable_file(value("tls_ca_path"), "tls_ca_path", source("tls_ca_path"))
        if value("tls_ca_path")
        else None,
    )
    _check_client_certificate(tls, source("tls_cert_path"))

    flags = _as_list(value("feature_flags", []))
    for flag in flags:
        if flag not in KNOWN_FLAGS:
            raise ConfigError(
                f"unknown feature flag {flag!r} from {source('feature_flags')}{did_you_mean(flag, KNOWN_FLAGS)}"
                f" (known: {', '.join(KNOWN_FLAGS)})"
            )

    selection = select(
        _as_list(value("classes", list(CLASSES))),
        _as_list(value("requirements", [])),
        _as_list(value("operations", [])),
        load_catalog(),
        load_contract(),
        (source("classes"), source("requirements"), source("operations")),
    )

    seed_value = value("seed")
    if seed_value is None:
        seed = DEFAULT_SEED if profile.deterministic_seed else int.from_bytes(os.urandom(4), "big")
    else:
        seed = int(_as_number(seed_value, "seed", source("seed"), minimum=0, integer=True))

    fail_on = str(value("fail_on", "must")).upper()
    if fail_on not in Level.__members__:
        raise ConfigError(f"fail_on from {source('fail_on')} must be must or should, got {value('fail_on')!r}")

    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    report_dir = _writable_dir(value("report_dir", Path("reports") / run_id), "report_dir", source("report_dir"))

    waivers = value("waivers")
    rerun_failed = value("rerun_failed")
    if rerun_failed is not None:
        _readable_file(Path(str(rerun_failed)).expanduser() / "summary.json", "rerun_failed", source("rerun_failed"))
    history = value("history_dir")
    if history:
        _writable_dir(history, "history_dir", source("history_dir"))

    faults = tuple(_as_list(value("reference_faults", [])))
    if faults and not reference:
        raise ConfigError("reference faults apply to the embedded reference only; drop --base-url")
    reference_options = tuple(_as_list(value("reference_options", [])))
    if reference_options and not reference:
        raise ConfigError("reference options apply to the embedded reference only; drop --base-url")
    max_rate = value("max_rate")
    outage_start, outage_end = value("outage_start"), value("outage_end")
    if (outage_start is None) != (outage_end is None):
        given = "outage_start" if outage_start is not None else "outage_end"
        raise ConfigError(f"{given} from {source(given)} needs its pair: give both --outage-start and --outage-end")

    test_issuer_trusted = _as_bool(
        value("test_issuer_trusted", reference), "test_issuer_trusted", source("test_issuer_trusted")
    )

    settings = Settings(
        base_url=base_url,
        reference=reference,
        auth_provider=auth_provider,
        identities=identities,
        log_level=log_level,
        tls=tls,
        feature_flags=frozenset(flags),
        profile=profile,
        seed=seed,
        classes=selection.classes,
        requirement_filter=selection.requirements,
        operation_filter=selection.operations,
        time_budget=_as_number(
            value("time_budget", profile.time_budget), "time_budget", source("time_budget"), minimum=1
        ),
        request_timeout=_as_number(
            value("request_timeout", profile.request_timeout),
            "request_timeout",
            source("request_timeout"),
            minimum=0.1,
        ),
        max_examples=int(
            _as_number(
                value("max_examples", profile.max_examples),
                "max_examples",
                source("max_examples"),
                minimum=1,
                integer=True,
            )
        ),
        report_dir=report_dir,
        fail_on=Level[fail_on],
        waivers_path=_readable_file(waivers, "waivers", source("waivers")) if waivers else None,
        rerun_failed=Path(str(rerun_failed)) if rerun_failed else None,
        history_dir=Path(str(history)).expanduser() if history else None,
        test_issuer_trusted=test_issuer_trusted,
        test_issuer_port=int(
            _as_number(
                value("test_issuer_port", 0),
                "test_issuer_port",
                source("test_issuer_port"),
                minimum=0,
                integer=True,
                maximum=65535,
            )
        ),
        callback_host=_as_host(value("callback_host", "127.0.0.1"), "callback_host", source("callback_host")),
        check_modules=_as_modules(value("check_modules", []), "check_modules", source("check_modules")),
        otlp_receiver_port=int(
            _as_number(
                value("otlp_receiver_port", 0),
                "otlp_receiver_port",
                source("otlp_receiver_port"),
                minimum=0,
                integer=True,
                maximum=65535,
            )
        ),
        liveness_budget_ms=_as_number(
            value("liveness_budget_ms", 200), "liveness_budget_ms", source("liveness_budget_ms"), minimum=1
        ),
        reference_faults=faults,
        reference_controls=_as_bool(
            value("reference_controls", reference), "reference_controls", source("reference_controls")
        ),
        run_id=run_id,
        config_file=config_file,
        sources={name: origin for name, (_, origin) in merged.items()},
        require_all=_as_bool(value("require_all", False), "require_all", source("require_all")),
        warnings=unknown_environment(env),
        shard=_shard(value("shard"), source("shard"), env),
        workers=int(
            _as_number(
                value("workers", default_workers(base_url)),
                "workers",
                source("workers"),
                minimum=1,
                integer=True,
                maximum=MAX_WORKERS,
            )
        ),
        max_rate=_as_number(max_rate, "max_rate", source("max_rate"), minimum=0.1) if max_rate is not None else None,
        outage_start=_command(outage_start, "outage_start", source("outage_start")),
        outage_end=_command(outage_end, "outage_end", source("outage_end")),
        reference_options=reference_options,
        trust_token_origins=frozenset(
            _origin(item, "trust_token_origins", source("trust_token_origins"))
            for item in _as_list(value("trust_token_origins", []))
        ),
    )
    from conformance.smoke import restrict_to_smoke  # the smoke profile's rules; it imports Settings

    return restrict_to_smoke(settings)


LOOPBACK_WORKERS = 1  # a target on this machine answers in microseconds: threads would only add contention
REMOTE_WORKERS = 8  # a remote target: hide the round trips behind each other
MAX_WORKERS = 64


def _shard(value: Any, source: str, env: Mapping[str, str]) -> Shard | None:
    """`--shard I/N` (or PHASE2_SHARD, or `shard` in the file); else the CI job's own variables."""
    if value is not None:
        shard = Shard.parse(value, source)
        return shard if shard.total > 1 else None
    found = shard_from_ci(env)
    return found[0] if found is not None else None


def default_workers(base_url: str | None) -> int:
    """Work items run at once by default: one on loopback (the embedded reference), eight elsewhere."""
    if base_url is None:
        return LOOPBACK_WORKERS
    host = (urlsplit(base_url).hostname or "").lower()
    loopback = host == "localhost" or host.endswith(".localhost")
    with contextlib.suppress(ValueError):
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    return LOOPBACK_WORKERS if loopback else REMOTE_WORKERS


def _command(value: Any, name: str, source: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name} from {source} must be a non-empty shell command, got {value!r}")
    return value


def _origin(value: Any, name: str, source: str) -> str:
    """scheme://host[:port] of a URL given by the user; a path would suggest trust it does not give."""
    parts = urlsplit(_normalise_url(value, name, source, api_root=False))
    if parts.path:
        raise ConfigError(f"{name} from {source} must be an origin (scheme://host[:port]), got {str(value)!r}")
    return urlunsplit((parts.scheme, parts.netloc.lower(), "", "", ""))


def _identities(value: Any, source: Any, reference: bool) -> tuple[Identity, ...]:
    fixtures = {i.role: i for i in _reference_identities()} if reference else {}
    identities = []
    for role, prefix in (("primary", ""), ("other-tenant", "other_tenant_"), ("read-only", "read_only_")):
        client_id = value(f"{prefix}client_id")
        client_secret = value(f"{prefix}client_secret")
        if client_id is None and client_secret is None:
            if role in fixtures:
                identities.append(fixtures[role])
            elif role == "primary":
                raise ConfigError(
                    "missing credentials: set PHASE2_CLIENT_ID and PHASE2_CLIENT_SECRET "
                    "(or --client-id with PHASE2_CLIENT_SECRET) for the target"
                )
            continue
        if not client_id or not client_secret:
            missing = f"{prefix}client_secret" if client_id else f"{prefix}client_id"
            raise ConfigError(f"missing credentials: {missing} is not set (the {role} client needs both)")
        identities.append(Identity(role, str(client_id), Secret(str(client_secret))))
    return tuple(identities)


def configure_logging(settings: Settings) -> None:
    logging.getLogger("conformance").setLevel(settings.log_level.upper())
