"""Known failures a team has accepted for now: each with a reason, an owner and an expiry date.

A waived failure is reported as waived, never hidden. An expired waiver fails the gate; a waiver
that matches no failure is reported as stale so the file does not rot.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml

from conformance.contract.catalog import RequirementCatalog
from conformance.errors import ConfigError
from conformance.results import Failure, Waiver

REQUIRED = ("requirement", "reason", "owner", "expires")


def load_waivers(path: Path, catalog: RequirementCatalog) -> tuple[Waiver, ...]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read waivers file {path}: {exc}") from None
    entries = document.get("waivers", []) if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"waivers file {path} must hold a list under 'waivers'")
    waivers = []
    for index, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or any(key not in entry for key in REQUIRED):
            raise ConfigError(f"waivers file {path}: entry {index} needs {', '.join(REQUIRED)}")
        if entry["requirement"] not in catalog:
            raise ConfigError(f"waivers file {path}: entry {index} names unknown requirement {entry['requirement']}")
        expires = entry["expires"]
        try:
            expires_on = expires if isinstance(expires, date) else date.fromisoformat(str(expires))
        except ValueError:
            raise ConfigError(f"waivers file {path}: entry {index} has a bad expiry date {expires!r}") from None
        waivers.append(
            Waiver(
                requirement_id=str(entry["requirement"]),
                operation=str(entry["operation"]) if entry.get("operation") else None,
                reason=str(entry["reason"]),
                owner=str(entry["owner"]),
                expires=expires_on.isoformat(),
            )
        )
    return tuple(waivers)


def is_expired(waiver: Waiver, today: date | None = None) -> bool:
    return date.fromisoformat(waiver.expires) < (today or date.today())


def matches(waiver: Waiver, failure: Failure) -> bool:
    return waiver.requirement_id == failure.requirement_id and (
        waiver.operation is None or waiver.operation == failure.operation
    )
