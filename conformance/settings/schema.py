"""The settings schema: one row per setting, the only list of setting names.

Everything that spells a setting is generated from `SCHEMA`: the arguments of `run` and `doctor`
(`cli_options`), the pytest options (`pytest_options`), the `PHASE2_*` variables and config-file keys
read (`sources`), the value each one takes (`parsers`), the README's settings table and the
runbook's environment table (`docs_tables`, pinned by tests/docs/test_facts.py). Adding a setting
is one row here and, if the run reads it, one field of `model.Settings`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from conformance.profiles import DEFAULT_PROFILE, PROFILES
from conformance.settings import defaults, parsers
from conformance.settings.defaults import Default, fixed, of_profile
from conformance.settings.parsers import Parser


class Kind(Enum):
    """How a flag takes its value on a command line."""

    VALUE = "value"  # --flag VALUE
    SWITCH = "switch"  # --flag alone means true
    TOGGLE = "toggle"  # --flag / --no-flag
    LIST = "list"  # --flag VALUE, repeatable; each value may be comma-separated


class Face(Enum):
    """A command line the settings are given on."""

    CLI = "phase2-conformance run / doctor"
    PYTEST = "pytest"


GROUPS = ("target", "run", "report")  # the sections of `run --help`, in order


@dataclass(frozen=True)
class Setting:
    name: str  # the key of `Settings.sources`; never shown to the user
    help: str  # one line for --help, pytest --help and the docs; `code` in backticks
    parse: Parser
    group: str  # its section of `run --help`
    flags: tuple[str, ...] = ()  # options of `run` and `doctor`; () = none (a secret, a test-only switch)
    env: str | None = None  # its PHASE2_* variable
    pytest: str | bool = True  # its pytest option: True = --phase2- + the first flag, False = none
    config_key: bool = True  # readable from the config file (as `name-with-dashes` or `name_with_underscores`)
    default: Default | None = None  # None: unset unless a source gives it
    kind: Kind = Kind.VALUE
    metavar: str | None = None
    secret: bool = False  # from the environment or the config file only: a command line is seen by `ps`
    reference_only: bool = False  # applies to the embedded reference only; refused with --base-url
    field: str | None = ""  # the `Settings` field it fills: "" = `name`; None = composed by the loader

    @property
    def settings_field(self) -> str | None:
        return self.name if self.field == "" else self.field

    @property
    def key(self) -> str | None:
        """The spelling of the config file, or None when the file cannot set it."""
        return self.name.replace("_", "-") if self.config_key else None

    def option(self, face: Face) -> str | None:
        """The option that sets it on `face`'s command line, or None."""
        if face is Face.CLI:
            return self.flags[0] if self.flags else None
        if isinstance(self.pytest, str):
            return self.pytest
        return "--phase2-" + self.flags[0].removeprefix("--") if self.pytest and self.flags else None

    def spellings(self) -> list[str]:
        """Each way the user can name it, for messages that point at every source."""
        found = [option for option in (self.option(Face.CLI), self.env) if option]
        if self.key:
            found.append(f"config key {self.key!r}")
        return found


_PROFILES = ", ".join(f"`{name}`" for name in PROFILES)
_REFERENCE_IDENTITY = "the reference's test-only client"

SCHEMA: tuple[Setting, ...] = (
    # ── target ────────────────────────────────────────────────────────────────────────────────
    Setting(
        "base_url", "the API root, e.g. `https://api.example.com/v2` (a bare origin gets `/v2`)",
        parsers.api_root, "target", flags=("--base-url",), env="PHASE2_BASE_URL", metavar="URL",
    ),
    Setting(
        "reference", "test the embedded reference server, started as a child process (never implied: "
        "without a target the run stops with exit 2)",
        parsers.boolean, "target", flags=("--reference",), env="PHASE2_REFERENCE", kind=Kind.SWITCH,
        default=fixed(False, "off"),
    ),
    Setting(
        "feature_flags", "the feature flags enabled on the target (`world-preview`, `engine-v2`): flagged operations "
        "are tested when on and must answer 404 when off",
        parsers.feature_flags, "target", flags=("--flags",), env="PHASE2_FEATURE_FLAGS", metavar="FLAGS",
        default=fixed((), "none"),
    ),
    Setting(
        "auth_provider", "the OAuth2 issuer whose RFC 8414 (or OIDC) metadata names the token endpoint",
        parsers.url, "target", flags=("--auth-provider",), env="PHASE2_AUTH_PROVIDER", metavar="URL",
        default=Default("the base URL's origin", lambda basis: None),
    ),
    Setting(
        "client_id", "the client-credentials client the run acts as",
        parsers.text, "target", flags=("--client-id",), env="PHASE2_CLIENT_ID", field=None,
        default=Default(_REFERENCE_IDENTITY, lambda basis: None),
    ),
    Setting(
        "client_secret", "its secret", parsers.text, "target", env="PHASE2_CLIENT_SECRET", secret=True, field=None,
        default=Default(_REFERENCE_IDENTITY, lambda basis: None),
    ),
    Setting(
        "other_tenant_client_id", "a client of a second tenant, for the tenant isolation rules "
        "(not applicable without it)",
        parsers.text, "target", env="PHASE2_OTHER_TENANT_CLIENT_ID", field=None,
    ),
    Setting(
        "other_tenant_client_secret", "its secret",
        parsers.text, "target", env="PHASE2_OTHER_TENANT_CLIENT_SECRET", secret=True, field=None,
    ),
    Setting(
        "read_only_client_id", "a client with read scopes only (P2-AUTH-022)",
        parsers.text, "target", env="PHASE2_READ_ONLY_CLIENT_ID", field=None,
    ),
    Setting(
        "read_only_client_secret", "its secret",
        parsers.text, "target", env="PHASE2_READ_ONLY_CLIENT_SECRET", secret=True, field=None,
    ),
    Setting(
        "trust_token_origins", "an origin besides the provider's own that may receive the client secret (an issuer "
        "or token endpoint elsewhere, or plain http); metadata naming any other origin is refused (exit 3; see "
        "`SECURITY.md`)",
        parsers.origins, "target", flags=("--trust-token-origin",), env="PHASE2_TRUST_TOKEN_ORIGIN",
        kind=Kind.LIST, metavar="ORIGIN", default=fixed((), "none"),
    ),
    Setting(
        "tls_cert_path", "client certificate for mutual TLS (PEM; may hold the key too)",
        parsers.readable_file, "target", flags=("--tls-cert",), env="PHASE2_TLS_CERT_PATH", metavar="FILE",
        field=None,
    ),
    Setting(
        "tls_key_path", "the client certificate's key, if not in the certificate file",
        parsers.readable_file, "target", flags=("--tls-key",), env="PHASE2_TLS_KEY_PATH", metavar="FILE",
        field=None,
    ),
    Setting(
        "tls_ca_path", "CA bundle that signs the target's certificate",
        parsers.readable_file, "target", flags=("--tls-ca",), env="PHASE2_TLS_CA_PATH", metavar="FILE",
        field=None, default=Default("the system trust store", lambda basis: None),
    ),
    Setting(
        "request_timeout", "seconds per request, first byte to last",
        parsers.real(minimum=0.1), "target", flags=("--request-timeout",), metavar="SECONDS",
        default=of_profile("request_timeout"),
    ),
    Setting(
        "test_issuer_trusted", "the target trusts the suite's test issuer (forged-token rules)",
        parsers.boolean, "target", flags=("--test-issuer-trusted",), kind=Kind.TOGGLE,
        default=defaults.ON_FOR_THE_REFERENCE,
    ),
    Setting(
        "test_issuer_port", "port of the suite's test issuer (its JWKS)",
        parsers.integer(minimum=0, maximum=65535), "target", flags=("--test-issuer-port",), metavar="PORT",
        default=fixed(0, "any free port"),
    ),
    Setting(
        "otlp_receiver_port", "port of the suite's OTLP/HTTP receiver",
        parsers.integer(minimum=0, maximum=65535), "target", flags=("--otlp-receiver-port",), metavar="PORT",
        default=fixed(0, "any free port"),
    ),
    Setting(
        "callback_host", "the host a deployment on another machine reaches the suite's test issuer and OTLP "
        "receiver at",
        parsers.host, "target", flags=("--callback-host",), env="PHASE2_CALLBACK_HOST", metavar="HOST",
        default=fixed("127.0.0.1"),
    ),
    Setting(
        "max_rate", "at most this many requests per second to the target, over all of the suite's clients",
        parsers.real(minimum=0.1), "target", flags=("--max-rate",), env="PHASE2_MAX_RATE", metavar="PER_SECOND",
        default=Default("unlimited", lambda basis: None),
    ),
    Setting(
        "outage_start", "a shell command that takes a component of the deployment away, for the outage rules "
        "(P2-HLT-003, P2-PRO-012)",
        parsers.command, "target", flags=("--outage-start",), env="PHASE2_OUTAGE_START", metavar="CMD",
    ),
    Setting(
        "outage_end", "the shell command that brings it back (both or neither)",
        parsers.command, "target", flags=("--outage-end",), env="PHASE2_OUTAGE_END", metavar="CMD",
    ),
    Setting(
        "reference_options", "start the embedded reference with this extra serve option, e.g. "
        "`--reference-option=--rate-limit=25` (test-only; repeatable)",
        parsers.whole_items, "target", flags=("--reference-option",), kind=Kind.LIST, metavar="OPTION",
        reference_only=True, default=fixed((), "none"),
    ),
    Setting(
        "reference_faults", "start the embedded reference with this deliberate fault (test-only; repeatable)",
        parsers.names, "target", flags=("--reference-fault",), kind=Kind.LIST, metavar="FAULT",
        reference_only=True, default=fixed((), "none"),
    ),
    Setting(
        "reference_controls", "the embedded reference's test controls (outage and clock switches)",
        parsers.boolean, "target", default=defaults.ON_FOR_THE_REFERENCE,
    ),
    # ── run ───────────────────────────────────────────────────────────────────────────────────
    Setting(
        "config", "a TOML file of settings, below flags and the environment", parsers.readable_file, "run",
        flags=("--config",), config_key=False, metavar="FILE", field=None,
    ),
    Setting(
        "profile", f"how hard the run pushes: {_PROFILES}", parsers.profile, "run", flags=("--profile",),
        env="PHASE2_PROFILE", metavar="NAME", default=fixed(DEFAULT_PROFILE),
    ),
    Setting(
        "seed", "seed for generated data; the same seed replays the same run",
        parsers.integer(minimum=0), "run", flags=("--seed",), env="PHASE2_SEED", metavar="N", default=defaults.SEED,
    ),
    Setting(
        "classes", "the conformance classes to run, comma separated",
        parsers.names, "run", flags=("--classes",), env="PHASE2_CLASSES", metavar="CLASSES", field=None,
        default=Default("all", lambda basis: None),
    ),
    Setting(
        "requirements", "only these requirement IDs (any case; repeatable or comma separated)",
        parsers.names, "run", flags=("--requirement",), env="PHASE2_REQUIREMENTS", pytest="--phase2-requirements",
        kind=Kind.LIST, metavar="ID", field=None,
    ),
    Setting(
        "operations", "only these operationIds (repeatable or comma separated)",
        parsers.names, "run", flags=("--operation",), env="PHASE2_OPERATIONS", pytest="--phase2-operations",
        kind=Kind.LIST, metavar="OPERATION_ID", field=None,
    ),
    Setting(
        "time_budget", "seconds the whole run may take",
        parsers.real(minimum=1), "run", flags=("--time-budget",), env="PHASE2_TIME_BUDGET", metavar="SECONDS",
        default=of_profile("time_budget"),
    ),
    Setting(
        "shard", "run part I of N of the plan, `I/N`; `phase2-conformance merge` combines the parts",
        parsers.shard, "run", flags=("--shard",), env="PHASE2_SHARD", metavar="I/N", default=defaults.CI_SHARD,
    ),
    Setting(
        "workers", "work items run at once, in threads",
        parsers.integer(minimum=1, maximum=defaults.MAX_WORKERS), "run", flags=("--workers",), env="PHASE2_WORKERS",
        metavar="N", default=defaults.WORKERS,
    ),
    Setting(
        "max_examples", "fuzzing examples per operation",
        parsers.integer(minimum=1), "run", flags=("--max-examples",), metavar="N", default=of_profile("max_examples"),
    ),
    Setting(
        "liveness_budget_ms", "p95 budget of `/healthz`, in milliseconds",
        parsers.real(minimum=1), "run", flags=("--liveness-budget-ms",), metavar="MS", default=fixed(200),
    ),
    Setting(
        "rerun_failed", "replay only what failed in an earlier run's report dir (with its seed and profile)",
        parsers.earlier_report_dir, "run", flags=("--rerun-failed",), metavar="DIR",
    ),
    Setting(
        "check_modules", "import your own checks from this module (repeatable; see `docs/writing-checks.md`)",
        parsers.modules, "run", flags=("--checks-module",), env="PHASE2_CHECK_MODULES",
        pytest="--phase2-checks-modules", kind=Kind.LIST, metavar="MODULE", default=fixed((), "none"),
    ),
    Setting(
        "log_level", f"the suite's own log level: {', '.join(parsers.LOG_LEVELS)}",
        parsers.choice(parsers.LOG_LEVELS), "run", flags=("--log-level",), env="PHASE2_LOG_LEVEL", metavar="LEVEL",
        default=fixed("warning"),
    ),
    # ── report ────────────────────────────────────────────────────────────────────────────────
    Setting(
        "report_dir", "where reports go", parsers.writable_dir, "report", flags=("--report-dir",),
        env="PHASE2_REPORT_DIR", metavar="DIR", default=defaults.REPORT_DIR,
    ),
    Setting(
        "history_dir", "earlier runs' summaries, for trends",
        parsers.history_dir, "report", flags=("--history-dir",), metavar="DIR",
    ),
    Setting(
        "waivers", "a YAML file of accepted failures", parsers.readable_file, "report", flags=("--waivers",),
        metavar="FILE", field="waivers_path",
    ),
    Setting(
        "fail_on", "which failures fail the gate: `must` or `should`", parsers.fail_on, "report",
        flags=("--fail-on",), metavar="LEVEL", default=fixed("must"),
    ),
    Setting(
        "require_all", "a certification run: any MUST left unverified (not applicable, not evaluated) fails the gate",
        parsers.boolean, "report", flags=("--require-all",), env="PHASE2_REQUIRE_ALL", kind=Kind.SWITCH,
        default=fixed(False, "off"),
    ),
)  # fmt: skip

BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SCHEMA}
SETTING_NAMES = frozenset(BY_NAME)
# PHASE2_* variable → setting name.
ENVIRONMENT: dict[str, str] = {setting.env: setting.name for setting in SCHEMA if setting.env}
# Config-file key (dashes) → setting name; underscores are read too.
CONFIG_KEYS: dict[str, str] = {setting.key: setting.name for setting in SCHEMA if setting.key}
