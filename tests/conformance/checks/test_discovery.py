"""Checks are found from their class folders, and a check's folder is the class of what it verifies."""

from __future__ import annotations

from conformance.checks import builtin_check_modules, load_checks
from conformance.checks.registry import REGISTRY
from conformance.contract.catalog import CLASSES, load_catalog


def test_every_class_folder_is_discovered_and_shared_helpers_are_not() -> None:
    modules = builtin_check_modules()
    folders = {module.split(".")[2] for module in modules if module.startswith("conformance.classes.")}
    assert folders == set(CLASSES)
    assert not [module for module in modules if module.startswith("conformance.classes.shared.")]


def test_a_check_lives_in_the_folder_of_its_requirements_class() -> None:
    """ "Where is the check for P2-SEM-005?" has one answer: conformance/classes/semantic/."""
    load_checks()
    catalog = load_catalog()
    misplaced = []
    for kind in ("response", "scenario"):
        for spec in REGISTRY.of_kind(kind):
            parts = spec.func.__module__.split(".")
            if parts[:2] != ["conformance", "classes"]:
                continue
            classes = {catalog.get(requirement_id).cls for requirement_id in spec.requirements}
            if classes != {parts[2]}:
                misplaced.append(f"{spec.func.__module__}.{spec.func.__name__}: {sorted(classes)}")
    assert not misplaced
