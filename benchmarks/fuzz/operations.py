"""The contract's operations as the generator reads them: parameters with their schemas, bodies with their examples."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.contract import Contract, load_contract

# Every method a request line may carry (the contract declares some of them per path).
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


@dataclass(frozen=True)
class Param:
    name: str
    location: str
    required: bool
    schema: dict[str, Any]


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str  # the template, without /v2
    secured: bool
    write: bool  # needs a :write scope
    params: tuple[Param, ...]
    body_required: bool
    media_types: tuple[str, ...]
    body_schema: dict[str, Any] | None
    example: Any

    def param(self, location: str) -> list[Param]:
        return [param for param in self.params if param.location == location]


def _resolve(node: Any, root: Mapping[str, Any]) -> Any:
    """Every internal $ref replaced by what it points at."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = root
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _resolve(target, root)
        return {key: _resolve(value, root) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, root) for item in node]
    return node


def load_operations(contract: Contract | None = None) -> list[Operation]:
    """Every operation of the contract (the suite's own loader), with what a malformed request needs of it."""
    contract = contract or load_contract()
    document = _resolve(contract.raw, contract.raw)
    operations = []
    for each in contract.operations:
        item = document["paths"][each.path]
        spec = item[each.method.lower()]
        params = tuple(
            Param(param["name"], param["in"], bool(param.get("required")), param.get("schema", {}))
            for param in [*item.get("parameters", []), *spec.get("parameters", [])]
            if param["name"] != "X-Request-ID"
        )
        body = spec.get("requestBody")
        schema = example = None
        if body is not None:
            content = body["content"][each.request_media_types[0]]
            schema = content["schema"]
            examples = content.get("examples", {})
            example = next(iter(examples.values()))["value"] if examples else {}
        operations.append(
            Operation(
                operation_id=each.operation_id,
                method=each.method,
                path=each.path,
                secured=each.protected,
                write=any(scope.endswith(":write") for scope in each.scopes),
                params=params,
                body_required=each.body_required,
                media_types=each.request_media_types,
                body_schema=schema,
                example=example,
            )
        )
    # By path, then in METHODS order: the order the generator's round robin and a seed's cases follow.
    paths = list(document["paths"])
    return sorted(operations, key=lambda operation: (paths.index(operation.path), METHODS.index(operation.method)))


def methods_by_path(operations: list[Operation]) -> dict[str, set[str]]:
    declared: dict[str, set[str]] = {}
    for operation in operations:
        declared.setdefault(operation.path, set()).add(operation.method)
    return declared
