"""The reference's layers import one way (ARCHITECTURE.md, "The reference server").

Every module of `phase2_reference/` is read as source (its AST, so imports inside functions and
under `TYPE_CHECKING` count too) and each import of another reference module is checked against
the layer table below: a layer imports only itself and the layers it sits on.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

PACKAGE = "phase2_reference"
ROOT = Path(__file__).resolve().parents[2] / PACKAGE

# Each module's layer: its own entry, or the longest entry of a package above it. Modules at the
# top of the package are named one by one, so a new one there is placed on purpose.
LAYER_OF: Mapping[str, str] = {
    # build the layers and start the server
    PACKAGE: "entry",
    f"{PACKAGE}.__main__": "entry",
    f"{PACKAGE}.cli": "entry",
    f"{PACKAGE}.app": "entry",
    f"{PACKAGE}.config": "config",
    f"{PACKAGE}.gateway": "gateway",
    f"{PACKAGE}.orchestrator": "orchestrator",
    f"{PACKAGE}.engines": "engines",
    f"{PACKAGE}.bus": "bus",
    f"{PACKAGE}.store": "store",
    f"{PACKAGE}.oauth": "oauth",
    f"{PACKAGE}.telemetry": "telemetry",
    f"{PACKAGE}.shared": "shared",
    f"{PACKAGE}.testing": "test harness",  # controls and the launcher sit on top, beside the entry
    f"{PACKAGE}.testing.faults": "faults",  # the switchboard every layer may consult
}

# The runbook's picture, top to bottom: each layer may import the ones after it.
LADDER = ("gateway", "orchestrator", "engines", "bus", "store")
# What any layer may use: settings, the utilities, and the fault switches (which import nothing).
FOUNDATION = frozenset({"config", "shared", "faults"})
EVERY_LAYER = frozenset(LAYER_OF.values())

MAY_IMPORT: Mapping[str, frozenset[str]] = {
    **{layer: frozenset(LADDER[index + 1 :]) | FOUNDATION for index, layer in enumerate(LADDER)},
    # The gateway also fronts the OAuth2 provider and records telemetry.
    "gateway": frozenset(LADDER[1:]) | FOUNDATION | {"oauth", "telemetry"},
    # Side layers the gateway uses: the provider keeps refresh tokens in the store.
    "oauth": frozenset({"store"}) | FOUNDATION,
    "telemetry": FOUNDATION,
    "config": frozenset(),
    "shared": frozenset(),
    "faults": frozenset(),
    "entry": EVERY_LAYER,
    "test harness": EVERY_LAYER,
}


def module_names(root: Path) -> dict[str, Path]:
    """Every module under `root` (a package directory) by its dotted name."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def layer_of(module: str, layers: Mapping[str, str]) -> str | None:
    if module in layers:
        return layers[module]
    packages = [name for name in layers if name != PACKAGE and module.startswith(name + ".")]
    return layers[max(packages, key=len)] if packages else None


def imported_modules(path: Path, module: str, known: Mapping[str, Path]) -> Iterator[tuple[int, str]]:
    """(line, module) for each import of a module in `known`; `from pkg import sub` names the submodule."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in known:
                    yield node.lineno, submodule
                elif base in known:
                    yield node.lineno, base


def upward_imports(root: Path, layers: Mapping[str, str], may_import: Mapping[str, frozenset[str]]) -> list[str]:
    """One line per import that breaks the table, and per module the table does not place."""
    known = module_names(root)
    problems = []
    for module, path in known.items():
        layer = layer_of(module, layers)
        if layer is None:
            problems.append(f"{module}: in no layer")
            continue
        for line, target in imported_modules(path, module, known):
            target_layer = layer_of(target, layers)
            if target_layer is not None and target_layer != layer and target_layer not in may_import[layer]:
                problems.append(f"{path.relative_to(root.parent)}:{line}: {layer} imports {target} ({target_layer})")
    return problems


def test_no_layer_of_the_reference_imports_upwards() -> None:
    problems = upward_imports(ROOT, LAYER_OF, MAY_IMPORT)
    assert not problems, "imports against the layers:\n" + "\n".join(problems)


def test_the_table_names_every_package_of_the_reference() -> None:
    packages = {f"{PACKAGE}.{path.parent.name}" for path in ROOT.glob("*/__init__.py")}
    assert packages <= LAYER_OF.keys(), f"packages without a layer: {sorted(packages - LAYER_OF.keys())}"
    assert set(MAY_IMPORT) == EVERY_LAYER


def test_an_upward_import_is_reported(tmp_path: Path) -> None:
    """The check can fail: a store that imports the gateway, in both spellings, is caught."""
    package = tmp_path / PACKAGE
    for folder in ("gateway", "store"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "gateway" / "pipeline.py").write_text(f"from {PACKAGE}.store.sqlite import Store\n")
    (package / "store" / "sqlite.py").write_text(
        f"from {PACKAGE}.gateway import pipeline\n\n\ndef late():\n    from ..gateway.pipeline import Gateway\n"
    )
    assert upward_imports(package, LAYER_OF, MAY_IMPORT) == [
        f"{PACKAGE}/store/sqlite.py:1: store imports {PACKAGE}.gateway.pipeline (gateway)",
        f"{PACKAGE}/store/sqlite.py:5: store imports {PACKAGE}.gateway.pipeline (gateway)",
    ]


def test_a_new_module_at_the_top_of_the_package_must_be_placed(tmp_path: Path) -> None:
    package = tmp_path / PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text("")
    assert upward_imports(package, LAYER_OF, MAY_IMPORT) == [f"{PACKAGE}.helpers: in no layer"]
