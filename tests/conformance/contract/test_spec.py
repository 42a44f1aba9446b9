from __future__ import annotations

from conformance.contract import load_contract


def test_every_operation_is_parsed_with_scopes_and_flags() -> None:
    contract = load_contract()
    assert contract.server_path == "/v2"
    assert len(contract.operations) == 25
    assert contract.operation("listWorlds").scopes == ("worlds:read",)
    assert contract.operation("createWorld").request_media_types == ("application/json",)
    assert contract.operation("updateWorld").request_media_types == ("application/merge-patch+json",)
    assert contract.operation("previewWorld").feature_flag == "world-preview"
    assert contract.operation("getScheduler").feature_flag == "engine-v2"
    assert not contract.operation("getLiveness").protected
    assert contract.operation("logout").protected and contract.operation("logout").scopes == ()
    assert contract.feature_flags == frozenset({"world-preview", "engine-v2"})


def test_match_maps_concrete_paths_to_operations() -> None:
    contract = load_contract()
    assert contract.match("GET", "/worlds/3f0c9a52-6a4e-4f3e-9a57-1d6e2b0c8f11").operation_id == "getWorld"  # type: ignore[union-attr]
    assert contract.match("POST", "/runtimes/abc/stop").operation_id == "stopRuntime"  # type: ignore[union-attr]
    assert contract.match("PUT", "/worlds/abc") is None
    assert contract.match("GET", "/nowhere") is None
    assert contract.methods_of("/worlds/{world_id}") == ("DELETE", "GET", "PATCH")


def test_every_operation_declares_its_errors_and_an_operation_id() -> None:
    contract = load_contract()
    for operation in contract.operations:
        assert operation.tags, operation.operation_id
        assert any(status.startswith("2") for status in operation.statuses), operation.operation_id
        if operation.protected:
            assert "401" in operation.statuses, operation.operation_id
        if operation.scopes:
            assert "403" in operation.statuses, operation.operation_id
        if operation.request_media_types:
            assert {"413", "415"} <= operation.statuses, operation.operation_id
