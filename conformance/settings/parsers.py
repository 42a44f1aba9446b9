"""Parsers of setting values: each turns what the user gave into a typed value, or raises one `ConfigError`.

A parser is called with the raw value (a string from a flag or a variable, any TOML value from the
config file) and `label`, the spelling the user typed (`--time-budget`, `PHASE2_TIME_BUDGET`,
config key 'time-budget' in FILE), which every message names. The value shown back is cut short:
it may come from a hostile file.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from conformance import local_files
from conformance.contract.catalog import Level
from conformance.errors import ConfigError
from conformance.profiles import PROFILES, Profile
from conformance.shards import Shard
from conformance.suggest import did_you_mean

Parser = Callable[[Any, str], Any]

KNOWN_FLAGS = ("world-preview", "engine-v2")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[?[0-9A-Fa-f:.]+\]?")
TRUE, FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})
SHOWN_CHARS = 120


def shown(value: Any) -> str:
    """`repr(value)`, cut short: a value from a hostile file must not flood the one error line."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def text(value: Any, label: str) -> str:
    if not isinstance(value, str | int | float | os.PathLike) or isinstance(value, bool):
        raise ConfigError(f"{label} must be a string, got {shown(value)}")
    return os.fspath(value) if isinstance(value, os.PathLike) else str(value)


def boolean(value: Any, label: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in TRUE | FALSE:
        return value.lower() in TRUE
    raise ConfigError(f"{label} must be true or false, got {shown(value)}")


def _number(value: Any, label: str, *, integer: bool) -> float:
    kind = "an integer" if integer else "a number"
    # A TOML `true` is not 1, and 2.5 workers is not 2: refuse rather than round.
    if isinstance(value, bool) or (integer and isinstance(value, float) and not value.is_integer()):
        raise ConfigError(f"{label} must be {kind}, got {shown(value)}")
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{label} must be {kind}, got {shown(value)}") from None
    if not math.isfinite(number):
        raise ConfigError(f"{label} must be a finite number, got {shown(value)}")
    return number


def _bounded(number: float, value: Any, label: str, minimum: float, maximum: float) -> None:
    if number < minimum:
        raise ConfigError(f"{label} must be at least {minimum:g}, got {shown(value)}")
    if number > maximum:
        raise ConfigError(f"{label} must be at most {maximum:g}, got {shown(value)}")


def real(minimum: float, maximum: float = math.inf) -> Parser:
    def parse(value: Any, label: str) -> float:
        number = _number(value, label, integer=False)
        _bounded(number, value, label, minimum, maximum)
        return number

    return parse


def integer(minimum: int, maximum: float = math.inf) -> Parser:
    def parse(value: Any, label: str) -> int:
        number = int(_number(value, label, integer=True))
        _bounded(number, value, label, minimum, maximum)
        return number

    return parse


def names(value: Any, label: str, *, split: bool = True) -> tuple[str, ...]:
    """A list: comma-separated in a string, or a TOML array (or repeated flags), whose items may hold commas."""
    if isinstance(value, str):
        items: Iterable[Any] = [value]
    elif isinstance(value, list | tuple | set | frozenset):
        items = value
    else:
        raise ConfigError(f"{label} must be a list, got {shown(value)}")
    found: list[str] = []
    for item in items:
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            raise ConfigError(f"{label} must be a list of strings, got {shown(item)}")
        parts = str(item).split(",") if split or isinstance(value, str) else [str(item)]
        found.extend(part.strip() for part in parts if part.strip())
    return tuple(found)


def whole_items(value: Any, label: str) -> tuple[str, ...]:
    """A list whose items are kept whole (serve options such as `--flags=a,b`); a string is split on commas."""
    return names(value, label, split=False)


def choice(options: tuple[str, ...]) -> Parser:
    def parse(value: Any, label: str) -> str:
        word = text(value, label).lower()
        if word not in options:
            raise ConfigError(f"{label} must be one of {', '.join(options)}, got {shown(value)}")
        return word

    return parse


def fail_on(value: Any, label: str) -> Level:
    word = text(value, label).upper()
    if word not in Level.__members__:
        raise ConfigError(f"{label} must be must or should, got {shown(value)}")
    return Level[word]


def profile(value: Any, label: str) -> Profile:
    name = text(value, label)
    if name not in PROFILES:
        raise ConfigError(
            f"unknown profile {shown(name)} from {label}{did_you_mean(name, PROFILES)}"
            f" (choose one of {', '.join(PROFILES)})"
        )
    return PROFILES[name]


def feature_flags(value: Any, label: str) -> frozenset[str]:
    flags = names(value, label)
    for flag in flags:
        if flag not in KNOWN_FLAGS:
            raise ConfigError(
                f"unknown feature flag {shown(flag)} from {label}{did_you_mean(flag, KNOWN_FLAGS)}"
                f" (known: {', '.join(KNOWN_FLAGS)})"
            )
    return frozenset(flags)


def host(value: Any, label: str) -> str:
    name = text(value, label).strip()
    if not HOST.fullmatch(name):
        raise ConfigError(f"{label} must be a host name or IP address, got {shown(name)}")
    return name


def modules(value: Any, label: str) -> tuple[str, ...]:
    found = names(value, label)
    for module in found:
        if not all(part.isidentifier() for part in module.split(".")):
            raise ConfigError(f"{label}: {shown(module)} is not a module name (dotted, like my_checks.api)")
    return found


def _url(value: Any, label: str, *, api_root: bool) -> str:
    given = text(value, label).strip()
    parts = urlsplit(given)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"{label} must be an http(s) URL with a host, got {shown(given)}")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ConfigError(f"{label} has an invalid port: {shown(given)}") from None
    if parts.query or parts.fragment:
        raise ConfigError(f"{label} must not have a query or fragment: {shown(given)}")
    path = parts.path.rstrip("/")
    if api_root and not path:
        # A bare origin means the contract's own server path.
        path = "/v2"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def api_root(value: Any, label: str) -> str:
    return _url(value, label, api_root=True)


def url(value: Any, label: str) -> str:
    return _url(value, label, api_root=False)


def origins(value: Any, label: str) -> frozenset[str]:
    """scheme://host[:port] of each URL given; a path would suggest a trust it does not give."""
    found = set()
    for item in names(value, label):
        parts = urlsplit(url(item, label))
        if parts.path:
            raise ConfigError(f"{label} must be an origin (scheme://host[:port]), got {shown(item)}")
        found.add(urlunsplit((parts.scheme, parts.netloc.lower(), "", "", "")))
    return frozenset(found)


def command(value: Any, label: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{label} must be a non-empty shell command, got {shown(value)}")
    return value


def readable_file(value: Any, label: str) -> Path:
    path = Path(text(value, label)).expanduser()
    if not path.is_file():
        raise ConfigError(f"{label} is not a readable file: {path}")
    try:
        with path.open("rb") as stream:
            stream.read(1)  # readable, without reading a file of any size
    except OSError as exc:
        raise ConfigError(f"{label} cannot be read: {path}: {exc.strerror}") from None
    return path


def writable_dir(value: Any, label: str) -> Path:
    """A directory the run can write into, or can create: checked now, not after the whole run."""
    path = Path(text(value, label)).expanduser()
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        what = "is not a directory" if existing == path else f"cannot be created: {existing} is not a directory"
        raise ConfigError(f"{label} {what}: {path}")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "is not writable" if existing == path else f"cannot be created: {existing} is not writable"
        raise ConfigError(f"{label} {what}: {path}")
    return path


def history_dir(value: Any, label: str) -> Path:
    """A writable dir whose earlier runs (the newest, read for the trend) are all summaries: checked
    now, so a hostile history dir stops the run before it starts rather than after it."""
    path = writable_dir(value, label)
    try:
        for _ in local_files.history_summaries(path):
            pass
    except local_files.InputError as error:
        raise ConfigError(f"{label}: {error}") from None
    return path


def earlier_report_dir(value: Any, label: str) -> Path:
    """The report dir of an earlier run: it must hold that run's summary.json."""
    directory = Path(text(value, label)).expanduser()
    readable_file(directory / "summary.json", label)
    return directory


def shard(value: Any, label: str) -> Shard | None:
    parsed = Shard.parse(text(value, label), label)
    return parsed if parsed.total > 1 else None
