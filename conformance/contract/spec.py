"""The parsed contract: operations with their scopes, feature flags, media types and statuses."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from conformance.contract.files import sha256_of, spec_path
from conformance.errors import ConfigError

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
OAUTH_SCHEME = "oauth2"


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # the template relative to the server URL, e.g. /worlds/{world_id}
    tags: tuple[str, ...]
    scopes: tuple[str, ...]
    protected: bool
    feature_flag: str | None
    path_parameters: tuple[str, ...]
    request_media_types: tuple[str, ...]
    body_required: bool
    statuses: frozenset[str]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def is_write(self) -> bool:
        return self.method in {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True, eq=False)  # identity: one loaded contract, usable as a cache key
class Contract:
    raw: Mapping[str, Any]
    path: Path
    sha256: str
    server_path: str  # "/v2"
    operations: tuple[Operation, ...]

    def operation(self, operation_id: str) -> Operation:
        for operation in self.operations:
            if operation.operation_id == operation_id:
                return operation
        raise KeyError(operation_id)

    def by_label(self, label: str) -> Operation | None:
        for operation in self.operations:
            if operation.label == label:
                return operation
        return None

    def match(self, method: str, path: str) -> Operation | None:
        """The operation a concrete request path (relative to the server URL) addresses."""
        segments = path.rstrip("/").split("/") if path != "/" else [""]
        for operation in self.operations:
            if operation.method != method.upper():
                continue
            template = operation.path.split("/")
            if len(template) != len(segments):
                continue
            if all(
                t == s or (t.startswith("{") and t.endswith("}") and s) for t, s in zip(template, segments, strict=True)
            ):
                return operation
        return None

    def methods_of(self, path: str) -> tuple[str, ...]:
        return tuple(sorted(op.method for op in self.operations if op.path == path))

    @property
    def feature_flags(self) -> frozenset[str]:
        return frozenset(op.feature_flag for op in self.operations if op.feature_flag)

    def protected_operations(self) -> Iterator[Operation]:
        return (op for op in self.operations if op.protected)

    def component_schema(self, name: str) -> Mapping[str, Any]:
        return self.raw["components"]["schemas"][name]  # type: ignore[no-any-return]

    def runtime_transitions(self) -> Mapping[str, frozenset[str]]:
        """Each runtime status → the statuses it may change to next (RuntimeStatus' `x-transitions`)."""
        schema = self.component_schema("RuntimeStatus")
        return {str(status): frozenset(map(str, following)) for status, following in schema["x-transitions"].items()}


def _scopes(security: list[Mapping[str, list[str]]]) -> tuple[tuple[str, ...], bool]:
    protected = any(requirement for requirement in security)
    scopes: list[str] = []
    for requirement in security:
        for scope in requirement.get(OAUTH_SCHEME, []):
            if scope not in scopes:
                scopes.append(scope)
    return tuple(scopes), protected


def _parse(raw: Mapping[str, Any], path: Path) -> Contract:
    try:
        server_url = raw["servers"][0]["url"]
        paths = raw["paths"]
    except (KeyError, IndexError, TypeError) as exc:
        raise ConfigError(f"{path} is not a usable OpenAPI contract: missing {exc}") from None
    default_security = raw.get("security", [])
    operations: list[Operation] = []
    for template, item in paths.items():
        shared_parameters = item.get("parameters", [])
        for method in HTTP_METHODS:
            definition = item.get(method)
            if definition is None:
                continue
            parameters = [*shared_parameters, *definition.get("parameters", [])]
            path_parameters = tuple(
                _resolve(raw, p)["name"] for p in parameters if _resolve(raw, p).get("in") == "path"
            )
            body = definition.get("requestBody", {})
            scopes, protected = _scopes(definition.get("security", default_security))
            operations.append(
                Operation(
                    operation_id=definition["operationId"],
                    method=method.upper(),
                    path=template,
                    tags=tuple(definition.get("tags", ())),
                    scopes=scopes,
                    protected=protected,
                    feature_flag=definition.get("x-feature-flag"),
                    path_parameters=path_parameters,
                    request_media_types=tuple(body.get("content", {})),
                    body_required=bool(body.get("required", False)),
                    statuses=frozenset(str(code) for code in definition.get("responses", {})),
                )
            )
    return Contract(
        raw=raw,
        path=path,
        sha256=sha256_of(path),
        server_path=urlsplit(server_url).path.rstrip("/"),
        operations=tuple(operations),
    )


def _resolve(raw: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    reference = node.get("$ref")
    if not isinstance(reference, str):
        return node
    target: Any = raw
    for part in reference.removeprefix("#/").split("/"):
        target = target[part]
    return _resolve(raw, target)


@cache
def load_contract(path: Path | None = None) -> Contract:
    path = path or spec_path()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the contract {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"the contract {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"the contract {path} is not an OpenAPI document")
    return _parse(raw, path)
