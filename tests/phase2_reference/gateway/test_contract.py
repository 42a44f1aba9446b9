"""Reading the contract: locating phase2.yaml, resolving $refs, operations, scopes and flags."""

from __future__ import annotations

import importlib.machinery
import shutil
import sys
from pathlib import Path

import pytest

from phase2_reference.gateway import contract as contract_module
from phase2_reference.gateway.contract import (
    ContractNotFound,
    build_contract,
    load_contract,
    locate_contract,
    resolve_refs,
)
from tests.phase2_reference.conftest import REPO


def test_found_in_a_source_checkout() -> None:
    assert locate_contract() == REPO / "openapi" / "phase2.yaml"


def test_found_in_an_installed_wheel_without_importing_conformance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site" / "phase2_reference"
    package.mkdir(parents=True)
    installed = tmp_path / "site" / "conformance" / "_contract_files"
    installed.mkdir(parents=True)
    shutil.copy(REPO / "openapi" / "phase2.yaml", installed / "phase2.yaml")
    monkeypatch.setattr(contract_module, "__file__", str(package / "gateway" / "contract.py"))
    spec = importlib.machinery.ModuleSpec("conformance", None, is_package=True)
    spec.submodule_search_locations = [str(installed.parent)]
    monkeypatch.setattr(contract_module.importlib.util, "find_spec", lambda name: spec)
    monkeypatch.delitem(sys.modules, "conformance", raising=False)
    assert locate_contract() == installed / "phase2.yaml"
    assert "conformance" not in sys.modules


def test_missing_everywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contract_module, "__file__", str(tmp_path / "pkg" / "gateway" / "contract.py"))
    monkeypatch.setattr(contract_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ContractNotFound):
        locate_contract()


def test_operations_scopes_flags_and_statuses() -> None:
    contract = load_contract()
    assert contract.base_path == "/v2"
    assert contract.api_version == "2.0.0"
    assert contract.feature_flags == ("world-preview", "engine-v2")
    assert len(contract.operations) == 25
    assert contract.operations["login"].scopes is None
    assert contract.operations["logout"].scopes == frozenset()
    assert contract.operations["createWorld"].scopes == {"worlds:write"}
    assert contract.operations["previewWorld"].feature_flag == "world-preview"
    update = contract.operations["updateWorld"]
    assert update.body is not None
    assert list(update.body.media_types) == ["application/merge-patch+json"]
    assert {(p.location, p.key, p.required) for p in update.parameters} == {
        ("path", "world_id", True),
        ("header", "x-request-id", False),
        ("header", "if-match", True),
    }
    assert 428 in update.statuses
    paths = {item.template: item for item in contract.paths}
    assert paths["/healthz"].allow == "GET, HEAD"
    pattern = paths["/runtimes/{runtime_id}/stop"].pattern
    assert pattern is not None
    found = pattern.match("/runtimes/abc/stop")
    assert found is not None
    assert found["runtime_id"] == "abc"


def test_resolve_refs_merges_siblings_and_refuses_cycles() -> None:
    root = {"a": {"type": "string"}, "loop": {"$ref": "#/loop"}}
    assert resolve_refs({"$ref": "#/a", "description": "d"}, root) == {"type": "string", "description": "d"}
    with pytest.raises(ValueError, match="recursive"):
        resolve_refs({"$ref": "#/loop"}, root)


def test_build_contract_reads_a_minimal_document() -> None:
    document = {
        "info": {"version": "2.1.0"},
        "servers": [{"url": "https://api.example/v2"}],
        "security": [{"oauth2": []}],
        "paths": {"/things": {"get": {"operationId": "listThings", "responses": {"200": {}}}}},
        "components": {
            "securitySchemes": {"oauth2": {"flows": {"clientCredentials": {"scopes": {"a:read": "A"}}}}},
            "schemas": {"FeatureFlag": {"enum": []}, "RuntimeStatus": {"x-transitions": {"pending": []}}},
        },
    }
    contract = build_contract(document)
    assert contract.base_path == "/v2"
    assert contract.operations["listThings"].scopes == frozenset()
    assert contract.scopes == ("a:read",)
