"""What a run selects (classes, requirement IDs, operationIds), checked against the catalog and contract.

Every selector is validated before anything starts: an unknown value is a `ConfigError` with the
closest known spelling, requirement IDs are matched without case and returned in their canonical
spelling, and a selection that matches no requirement (or names a value the rest of the selection
rules out) is a `ConfigError` too. A run that would test nothing must not start, let alone pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from conformance.contract.catalog import CLASSES, Requirement, RequirementCatalog
from conformance.contract.spec import Contract
from conformance.errors import ConfigError
from conformance.suggest import did_you_mean


@dataclass(frozen=True)
class Selection:
    classes: frozenset[str]
    requirements: frozenset[str]  # canonical IDs; empty = all of the selected classes
    operations: frozenset[str]  # operationIds; empty = all


def canonical_class(value: str, source: str) -> str:
    folded = value.strip().casefold()
    for cls in CLASSES:
        if cls == folded:
            return cls
    hint = did_you_mean(value, CLASSES) or f" (known: {', '.join(CLASSES)})"
    raise ConfigError(f"unknown conformance class {value!r} from {source}{hint}")


def canonical_requirement(value: str, catalog: RequirementCatalog, source: str) -> str:
    known = [r.id for r in catalog]
    folded = value.strip().casefold()
    for requirement_id in known:
        if requirement_id.casefold() == folded:
            return requirement_id
    hint = did_you_mean(value, known) or "; `phase2-conformance requirements` lists them"
    raise ConfigError(f"unknown requirement {value!r} from {source}{hint}")


def canonical_operation(value: str, contract: Contract, source: str) -> str:
    known = [op.operation_id for op in contract.operations]
    text = value.strip()
    if text in known:
        return text
    # operationIds are case-sensitive in OpenAPI, but only one can fold to the same spelling here.
    folded = [op for op in known if op.casefold() == text.casefold()]
    if len(folded) == 1:
        return folded[0]
    hint = did_you_mean(value, known) or f" (known: {', '.join(known)})"
    raise ConfigError(f"unknown operation {value!r} from {source}{hint}")


def _covers_any(requirement: Requirement, operations: frozenset[str]) -> bool:
    return not operations or "*" in requirement.operations or bool(set(requirement.operations) & operations)


def select(
    classes: Iterable[str],
    requirements: Iterable[str],
    operations: Iterable[str],
    catalog: RequirementCatalog,
    contract: Contract,
    sources: tuple[str, str, str],
) -> Selection:
    """Validate the three selectors and their combination; raises `ConfigError` on the first problem."""
    class_source, requirement_source, operation_source = sources
    chosen_classes = frozenset(canonical_class(c, class_source) for c in classes)
    if not chosen_classes:
        raise ConfigError(f"classes from {class_source} selects no conformance class")
    chosen_requirements = frozenset(canonical_requirement(r, catalog, requirement_source) for r in requirements)
    chosen_operations = frozenset(canonical_operation(o, contract, operation_source) for o in operations)
    for requirement_id in sorted(chosen_requirements):
        requirement = catalog.get(requirement_id)
        if requirement.cls not in chosen_classes:
            raise ConfigError(
                f"requirement {requirement_id} is in class {requirement.cls}, which the selected classes "
                f"({', '.join(sorted(chosen_classes))}) leave out; add it to --classes or drop the requirement"
            )
        if not _covers_any(requirement, chosen_operations):
            raise ConfigError(
                f"requirement {requirement_id} covers none of the selected operations "
                f"({', '.join(sorted(chosen_operations))}); it covers {', '.join(requirement.operations)}"
            )
    selected = [
        r
        for r in catalog
        if r.cls in chosen_classes
        and (not chosen_requirements or r.id in chosen_requirements)
        and _covers_any(r, chosen_operations)
    ]
    # An operation may be picked only as traffic for a selected requirement (createWorld feeding a
    # rule about deletions), so it needs a requirement of the selected classes, not of the IDs.
    of_classes = [r for r in catalog if r.cls in chosen_classes]
    for operation_id in sorted(chosen_operations):
        if not any(_covers_any(r, frozenset({operation_id})) for r in of_classes):
            raise ConfigError(
                f"operation {operation_id} is covered by no requirement of the selected classes "
                f"({', '.join(sorted(chosen_classes))}); add a class that covers it or drop the operation"
            )
    if not selected:
        raise ConfigError(
            "the selection matches no requirement of the catalog; widen --classes/--requirement/--operation"
        )
    return Selection(chosen_classes, chosen_requirements, chosen_operations)
