"""Each setting the run would use, where it came from, secrets masked."""

from __future__ import annotations

from collections.abc import Callable

from conformance.doctor.findings import Finding, ok
from conformance.settings import Settings
from conformance.settings.schema import BY_NAME

MASKED = "*** (set)"
DEFAULTS = "defaults"
REFERENCE_CLIENTS = "the reference's test-only clients (fixtures/clients.yaml)"
ROLE_PREFIX = {"primary": "", "other-tenant": "other_tenant_", "read-only": "read_only_"}

# Setting name → how to show its value. Secrets show only that they are set.
SHOWN: dict[str, Callable[[Settings], object]] = {
    "base_url": lambda s: s.base_url or "(the embedded reference, started on a free port)",
    "auth_provider": lambda s: s.auth_provider or "(the base URL's origin)",
    "feature_flags": lambda s: ",".join(sorted(s.feature_flags)) or "(none)",
    "tls_cert_path": lambda s: s.tls.cert_path or "(none)",
    "tls_key_path": lambda s: s.tls.key_path or "(none)",
    "tls_ca_path": lambda s: s.tls.ca_path or "(system trust store)",
    "request_timeout": lambda s: f"{s.request_timeout:g}s",
    "test_issuer_trusted": lambda s: s.test_issuer_trusted,
    "test_issuer_port": lambda s: s.test_issuer_port or "(any free port)",
    "otlp_receiver_port": lambda s: s.otlp_receiver_port or "(any free port)",
    "callback_host": lambda s: s.callback_host,
    "profile": lambda s: s.profile.name,
    "log_level": lambda s: s.log_level,
}


def label(name: str) -> str:
    """A setting as the user spells it: its flag and its variable (a secret has only the variable;
    a setting with neither, its config key), never the internal name."""
    setting = BY_NAME[name]
    flag = setting.flags[0] if setting.flags else None
    if flag and setting.env:
        return f"{flag} ({setting.env})"
    return flag or setting.env or f"config key {setting.key}"


def _line(settings: Settings, name: str, value: object, fallback: str = DEFAULTS) -> Finding:
    source = settings.sources.get(name, fallback)
    return ok("setting", f"{label(name)} = {value}  [from {source}]")


def setting_findings(settings: Settings) -> list[Finding]:
    findings = [_line(settings, "base_url", SHOWN["base_url"](settings))]
    findings.append(_line(settings, "auth_provider", SHOWN["auth_provider"](settings)))
    for role, prefix in ROLE_PREFIX.items():
        identity = settings.identity(role)
        fallback = REFERENCE_CLIENTS if settings.reference else DEFAULTS
        if identity is None:
            findings.append(_line(settings, f"{prefix}client_id", "(not set)"))
            continue
        findings.append(_line(settings, f"{prefix}client_id", identity.client_id, fallback))
        findings.append(_line(settings, f"{prefix}client_secret", MASKED, fallback))
    findings.extend(
        _line(settings, name, show(settings))
        for name, show in SHOWN.items()
        if name not in ("base_url", "auth_provider")
    )
    if settings.config_file is not None:
        findings.append(ok("setting", f"config file {settings.config_file}"))
    return findings
