"""Known failures a team has accepted for now: each with a reason, an owner and an expiry date.

A waived failure is reported as waived, never hidden. An expired waiver no longer covers
anything: the failures it named count again and the gate fails. A waiver that matches no
failure of a requirement the run judged is reported as stale so the file does not rot.

The file:

    waivers:
      - requirement: P2-PRO-004
        operation: getEngineInfo          # optional: an operationId or a label ("GET /engine")
        reason: upstream proxy strips the header, fix in 2.3
        owner: platform-team
        expires: 2026-03-31               # the last day the waiver holds
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from conformance import local_files
from conformance.contract.catalog import RequirementCatalog
from conformance.errors import ConfigError
from conformance.local_files import shown
from conformance.results import Failure, Waiver

if TYPE_CHECKING:
    from conformance.contract.spec import Contract

REQUIRED = ("requirement", "reason", "owner", "expires")
OPTIONAL = ("operation",)
# A waivers file is a short list a team writes by hand; these bound what a crafted one can cost.
WAIVERS = local_files.WAIVERS  # 1 MiB, its schema waivers.schema.json beside this module
MAX_YAML_DEPTH = WAIVERS.max_depth


class _Loader(yaml.SafeLoader):
    """Safe YAML that keeps dates as text: a bad date is then one clear error naming its entry,
    not the YAML library's own exception.

    Aliases are refused (a waivers file has no use for them, and a few lines of them expand to a
    billion nodes, "billion laughs"), and so is nesting deeper than a waiver needs (the composer
    recurses once per level)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.YAMLError(f"line {mark.line + 1}: YAML aliases (*name) are not allowed in a waivers file")
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.YAMLError(f"line {mark.line + 1}: nested deeper than {MAX_YAML_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_waivers(path: Path, catalog: RequirementCatalog, contract: Contract | None = None) -> tuple[Waiver, ...]:
    """Parse and validate a waivers file; any mistake is one `ConfigError` naming the entry."""
    if contract is None:
        from conformance.contract import load_contract

        contract = load_contract()
    # A regular file under its cap, through the one door for local files (never a FIFO or a device).
    raw = local_files.read_named(path, WAIVERS.max_bytes, "waivers file")
    try:
        # _Loader is a SafeLoader minus date parsing.
        document = yaml.load(raw.decode("utf-8"), Loader=_Loader) or {}
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        # One line: YAML's own messages span several.
        raise ConfigError(f"cannot read waivers file {path}: {' '.join(str(exc).split())[:300]}") from None
    entries = document.get("waivers", []) if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"waivers file {path} must hold a list under 'waivers'")
    for index, entry in enumerate(entries, 1):  # the plainest messages first; each test holds for any type
        where = f"waivers file {path}: entry {index}"
        if not isinstance(entry, dict) or any(key not in entry for key in REQUIRED):
            raise ConfigError(f"{where} needs {', '.join(REQUIRED)}")
        unknown = sorted(str(key) for key in entry if key not in REQUIRED + OPTIONAL)
        if unknown:
            # A misspelt `operation` would silently widen the waiver to every operation.
            raise ConfigError(
                f"{where} has unknown key {shown(unknown[0])!r} (known: {', '.join(REQUIRED + OPTIONAL)})"
            )
        if str(entry["requirement"]) not in catalog:
            raise ConfigError(f"{where} names unknown requirement {shown(entry['requirement'])}")
        for key in ("reason", "owner"):
            if not str(entry[key] or "").strip():
                raise ConfigError(f"{where} has an empty {key}")
        try:
            date.fromisoformat(str(entry["expires"]))
        except ValueError:
            raise ConfigError(f"{where} has a bad expiry date {shown(entry['expires'])!r} (use YYYY-MM-DD)") from None
    # Then the types and sizes of every field, as the published schema states them.
    local_files.validate(document, WAIVERS, f"waivers file {path}")
    waivers = []
    for index, entry in enumerate(entries, 1):
        where = f"waivers file {path}: entry {index}"
        expires_on = date.fromisoformat(entry["expires"])
        operation = entry.get("operation")
        label = _operation_label(operation, contract) if operation else None
        if operation and label is None:
            raise ConfigError(
                f"{where} names unknown operation {shown(operation)!r} (use an operationId or 'GET /path')"
            )
        waivers.append(
            Waiver(
                requirement_id=entry["requirement"],
                operation=label,
                reason=" ".join(entry["reason"].split()),
                owner=entry["owner"].strip(),
                expires=expires_on.isoformat(),
            )
        )
    return tuple(waivers)


def _operation_label(value: str, contract: Contract) -> str | None:
    """Failures name operations by label; a waiver may name one by operationId or label."""
    for operation in contract.operations:
        if value == operation.operation_id:
            return operation.label
    method, _, template = value.strip().partition(" ")
    by_label = contract.by_label(f"{method.upper()} {template.strip()}")
    return by_label.label if by_label else None


def is_expired(waiver: Waiver, today: date | None = None) -> bool:
    """Expired once its expiry day is over: a waiver expiring today still holds today."""
    return date.fromisoformat(waiver.expires) < (today or date.today())


def matches(waiver: Waiver, failure: Failure) -> bool:
    return waiver.requirement_id == failure.requirement_id and (
        waiver.operation is None or waiver.operation == failure.operation
    )


def covering(failure: Failure, waivers: Iterable[Waiver], today: date | None = None) -> Waiver | None:
    """The first waiver still in force that covers this failure."""
    return next((w for w in waivers if matches(w, failure) and not is_expired(w, today)), None)


def describe(waiver: Waiver) -> str:
    """One line for every report: what was accepted, by whom, until when."""
    scope = f" on {waiver.operation}" if waiver.operation else ""
    return f"waived{scope} until {waiver.expires} by {waiver.owner}: {waiver.reason}"
