"""Checks are found from their class folders and installed packages' entry points; a check's folder is
the class of what it verifies."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.checks import ENTRY_POINT_GROUP, builtin_check_modules, installed_check_plugins, load_checks
from conformance.checks.registry import REGISTRY
from conformance.contract.catalog import CLASSES, load_catalog
from conformance.errors import ConfigError


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
    for spec in (*REGISTRY.responses(), *REGISTRY.scenarios()):
        parts = spec.func.__module__.split(".")
        if parts[:2] != ["conformance", "classes"]:
            continue
        classes = {catalog.get(requirement_id).cls for requirement_id in spec.requirements}
        if classes != {parts[2]}:
            misplaced.append(f"{spec.func.__module__}.{spec.func.__name__}: {sorted(classes)}")
    assert not misplaced


PLUGIN_MODULE = '''
from conformance.checks.context import ResponseContext
from conformance.checks.registry import check


@check("P2-SEM-021", kind="response")
def check_{tag}_engine_name(ctx: ResponseContext) -> bool | None:
    """Installed by a package, found through its entry point."""
    return None
'''


def _install(site: Path, distribution: str, entry_points: str, modules: dict[str, str]) -> None:
    """A distribution as pip leaves it in site-packages: its modules and a dist-info directory."""
    dist_info = site / f"{distribution}-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{entry_points}\n")
    for name, source in modules.items():
        (site / f"{name}.py").write_text(source)


@pytest.fixture
def own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checks registered by a test leave the suite's registry as it was."""
    load_checks()
    monkeypatch.setattr(REGISTRY, "_checks", dict(REGISTRY._checks))


def test_an_installed_package_s_checks_are_found_by_their_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_registry: None
) -> None:
    tag = tmp_path.name.replace("-", "_").lower()
    _install(
        tmp_path, "acme_checks", f"acme = acme_checks_{tag}", {f"acme_checks_{tag}": PLUGIN_MODULE.format(tag=tag)}
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert [entry.name for entry in installed_check_plugins()] == ["acme"]
    load_checks()
    spec = REGISTRY.get(f"check_{tag}_engine_name")
    assert spec.kind == "response" and spec.requirements == ("P2-SEM-021",)
    assert spec in REGISTRY.responses()


def test_the_smoke_profile_refuses_installed_check_plugins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_registry: None
) -> None:
    _install(tmp_path, "acme_checks", "acme = acme_never_imported", {})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match=r"smoke profile is read-only and refuses the installed check plugins acme"):
        load_checks(read_only=True)


def test_a_plugin_that_cannot_load_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_registry: None
) -> None:
    _install(tmp_path, "broken_checks", "broken = broken_checks_missing_module", {})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match=r"cannot load check plugin 'broken' \(broken_checks_missing_module\)"):
        load_checks()
    assert ConfigError("x").exit_code == 2
