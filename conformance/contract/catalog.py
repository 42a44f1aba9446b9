"""The requirement catalog: every normative rule of the contract, with a stable ID."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

import yaml

from conformance.contract.files import catalog_path
from conformance.errors import ConfigError

REQUIREMENT_ID = re.compile(r"^P2-[A-Z]+-\d{3}$")
CLASSES = ("contract", "protocol", "semantic", "auth", "health", "telemetry")


class Level(StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"


@dataclass(frozen=True)
class Requirement:
    id: str
    level: Level
    cls: str
    statement: str
    operations: tuple[str, ...]  # operationIds, or ("*",) for all
    reference: str
    when_unobserved: str | None = None
    troubleshooting: str = ""  # likely causes and first checks, shown next to a failure

    def covers(self, operation_id: str) -> bool:
        return "*" in self.operations or operation_id in self.operations


@dataclass(frozen=True)
class Untestable:
    operation: str
    reason: str


@dataclass(frozen=True)
class RequirementCatalog:
    schema_version: int
    requirements: tuple[Requirement, ...]
    untestable: tuple[Untestable, ...]

    def __iter__(self) -> Iterator[Requirement]:
        return iter(self.requirements)

    def __len__(self) -> int:
        return len(self.requirements)

    def __contains__(self, requirement_id: object) -> bool:
        return any(r.id == requirement_id for r in self.requirements)

    def get(self, requirement_id: str) -> Requirement:
        for requirement in self.requirements:
            if requirement.id == requirement_id:
                return requirement
        raise KeyError(requirement_id)


@cache
def load_catalog(path: Path | None = None) -> RequirementCatalog:
    path = path or catalog_path()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot load the requirement catalog {path}: {exc}") from None
    requirements: list[Requirement] = []
    seen: set[str] = set()
    for entry in raw.get("requirements", []):
        requirement_id = entry["id"]
        if not REQUIREMENT_ID.match(requirement_id) or requirement_id in seen:
            raise ConfigError(f"requirement catalog: bad or duplicate id {requirement_id!r}")
        if entry["class"] not in CLASSES:
            raise ConfigError(f"requirement catalog: {requirement_id} has unknown class {entry['class']!r}")
        seen.add(requirement_id)
        requirements.append(
            Requirement(
                id=requirement_id,
                level=Level(entry["level"]),
                cls=entry["class"],
                statement=" ".join(entry["statement"].split()),
                operations=tuple(entry.get("operations", ())),
                reference=entry.get("reference", ""),
                when_unobserved=entry.get("when_unobserved"),
                troubleshooting=" ".join(str(entry.get("troubleshooting", "")).split()),
            )
        )
    untestable = tuple(Untestable(u["operation"], u["reason"]) for u in raw.get("untestable") or [])
    return RequirementCatalog(int(raw.get("schema_version", 1)), tuple(requirements), untestable)
