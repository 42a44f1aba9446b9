"""`load_settings`: the sources merged by precedence, each value parsed by its row of the schema, the
rules between settings checked, one frozen `Settings` built.

Precedence, highest first: the command line > `PHASE2_*` environment > config file (TOML) > defaults
(the profile's among them). Anything wrong raises one `ConfigError` whose one line names the flag,
variable or config key the user typed.
"""

from __future__ import annotations

import os
import ssl
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from conformance.contract.catalog import CLASSES, load_catalog
from conformance.contract.files import fixtures_dir
from conformance.contract.selection import Selection, select
from conformance.contract.spec import load_contract
from conformance.errors import ConfigError
from conformance.profiles import DEFAULT_PROFILE, PROFILES
from conformance.settings import parsers, sources
from conformance.settings.defaults import Basis
from conformance.settings.model import Identity, Secret, Settings, TLSSettings
from conformance.settings.schema import BY_NAME, SCHEMA, Face, Setting
from conformance.settings.sources import Given

NO_TARGET = "no target: give --base-url URL or PHASE2_BASE_URL, or --reference to test the embedded reference server"
# `Settings` fields the loader composes from several rows (or from none); every other field is one row's.
COMPOSED = frozenset(
    {"identities", "tls", "classes", "requirement_filter", "operation_filter", "run_id", "config_file", "sources",
     "labels", "warnings"}
)  # fmt: skip
# The clients a run acts as, and the prefix of their two settings.
ROLES = (("primary", ""), ("other-tenant", "other_tenant_"), ("read-only", "read_only_"))


def load_settings(
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    face: Face = Face.CLI,
) -> Settings:
    """Build the run's settings from `face`'s command-line values (by setting name; None = not given),
    the environment and a config file."""
    env = os.environ if env is None else env
    given = _merged(sources.command_line(cli or {}, face), env)
    config_file = given.pop("config").value if "config" in given else None
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    # The target settings' defaults are fixed values: they do not read the basis they are given.
    early = Basis(PROFILES[DEFAULT_PROFILE], reference=False, base_url=None, env=env, run_id=run_id)
    reference = _resolve(BY_NAME["reference"], given, early, face)
    values: dict[str, Any] = {"reference": _choose_target(given, reference)}
    values.update({name: _resolve(BY_NAME[name], given, early, face) for name in ("profile", "base_url")})
    if values["base_url"] is None and not values["reference"]:
        # Never a silent fallback: a mistyped variable must not turn into a run against the reference.
        typos = sources.unknown_environment(env)
        raise ConfigError(NO_TARGET + (f" ({typos[0]})" if typos else ""))
    basis = Basis(values["profile"], values["reference"], values["base_url"], env, run_id)
    for setting in SCHEMA:
        if setting.name not in values:
            values[setting.name] = _resolve(setting, given, basis, face)
    _check_combinations(values, given, face)
    selection = _selection(values, given, face)
    settings = Settings(
        **{setting.settings_field: values[setting.name] for setting in SCHEMA if setting.settings_field},
        identities=_identities(values, values["reference"]),
        tls=_tls(values, given),
        classes=selection.classes,
        requirement_filter=selection.requirements,
        operation_filter=selection.operations,
        run_id=run_id,
        config_file=config_file,
        sources={name: value.origin for name, value in given.items()},
        labels={name: value.label for name, value in given.items()},
        warnings=sources.unknown_environment(env),
    )
    from conformance.smoke import restrict_to_smoke  # the smoke profile's rules; it imports Settings

    return restrict_to_smoke(settings)


def _merged(command_line: dict[str, Given], env: Mapping[str, str]) -> dict[str, Given]:
    """The highest-ranked value of each setting; `config` is the config file's path, parsed here."""
    merged: dict[str, Given] = {}
    config = command_line.get("config")
    if config is not None:
        path = parsers.readable_file(config.value, config.label)
        merged.update(sources.config_file(path))
        command_line = {**command_line, "config": Given(path, config.origin, config.label, config.rank)}
    merged.update(sources.environment(env))
    merged.update(command_line)
    return merged


def _resolve(setting: Setting, given: Mapping[str, Given], basis: Basis, face: Face) -> Any:
    """The typed value of `setting`: the given one, else its default; None when neither exists."""
    found = given.get(setting.name)
    if found is not None:
        return setting.parse(found.value, found.label)
    raw = setting.default.compute(basis) if setting.default is not None else None
    if raw is None:
        return None
    return setting.parse(raw, f"{setting.option(face) or setting.spellings()[0]} (default)")


def _choose_target(given: dict[str, Given], reference: bool) -> bool:
    """Whether the run tests the embedded reference. `reference` and `base_url` both name the target:
    the higher source wins (the loser's value is dropped); in the same source they clash."""
    if not reference or "base_url" not in given:
        return reference
    base_url, asked = given["base_url"], given["reference"]
    if base_url.rank == asked.rank:
        raise ConfigError(f"give either {asked.label} or {base_url.label}, not both")
    if base_url.rank > asked.rank:
        return False
    given.pop("base_url")
    return True


def _spelled_like(given: Given, setting: Setting, face: Face) -> str:
    """`setting` as the user would spell it in the source of `given`: its flag, variable or config key."""
    if given.rank == sources.RANKS["command line"]:
        spelling = setting.option(face)
    elif given.rank == sources.RANKS["environment"]:
        spelling = setting.env
    else:
        spelling = f"config key {setting.key!r}" if setting.key else None
    return spelling or setting.spellings()[0]


def _check_combinations(values: Mapping[str, Any], given: Mapping[str, Given], face: Face) -> None:
    for setting in SCHEMA:
        if setting.reference_only and values[setting.name] and not values["reference"]:
            raise ConfigError(
                f"{given[setting.name].label} applies to the embedded reference only; drop {given['base_url'].label}"
            )
    start, end = given.get("outage_start"), given.get("outage_end")
    one = start or end
    if one is not None and (start is None or end is None):
        pair = [_spelled_like(one, BY_NAME[name], face) for name in ("outage_start", "outage_end")]
        raise ConfigError(f"{one.label} needs its pair: give both {pair[0]} and {pair[1]}")


def _label(given: Mapping[str, Given], name: str, face: Face) -> str:
    return given[name].label if name in given else f"{BY_NAME[name].option(face)} (default)"


def _selection(values: Mapping[str, Any], given: Mapping[str, Given], face: Face) -> Selection:
    return select(
        values["classes"] if values["classes"] is not None else CLASSES,
        values["requirements"] or (),
        values["operations"] or (),
        load_catalog(),
        load_contract(),
        (_label(given, "classes", face), _label(given, "requirements", face), _label(given, "operations", face)),
    )


def _tls(values: Mapping[str, Any], given: Mapping[str, Given]) -> TLSSettings:
    tls = TLSSettings(values["tls_cert_path"], values["tls_key_path"], values["tls_ca_path"])
    if tls.cert_path is not None:
        try:
            key = str(tls.key_path) if tls.key_path else None
            ssl.create_default_context().load_cert_chain(str(tls.cert_path), key)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(
                f"{given['tls_cert_path'].label} is not a usable client certificate and key ({tls.cert_path}): "
                f"{getattr(exc, 'reason', None) or exc}"
            ) from None
    return tls


def _identities(values: Mapping[str, Any], reference: bool) -> tuple[Identity, ...]:
    fixtures = {identity.role: identity for identity in _reference_identities()} if reference else {}
    identities = []
    for role, prefix in ROLES:
        client_id, client_secret = values[f"{prefix}client_id"], values[f"{prefix}client_secret"]
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
            missing = BY_NAME[f"{prefix}client_secret" if client_id else f"{prefix}client_id"]
            what = "secret" if client_id else "id"
            raise ConfigError(
                f"missing credentials: the {role} client's {what} is not set ({' or '.join(missing.spellings())}); "
                "the client needs both"
            )
        identities.append(Identity(role, client_id, Secret(client_secret)))
    return tuple(identities)


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
