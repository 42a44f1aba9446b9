"""The contract as the reference reads it: operations, parameters, bodies, scopes and flags.

Everything the gateway enforces about a request (its route, methods, scopes, feature flag,
parameter and body schemas) comes from `phase2.yaml` through this module, so the reference
cannot drift from the contract. The file is found in a source checkout (`openapi/` at the
repository root) or in an installed wheel (`conformance/_contract_files/`), without importing
the `conformance` package.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CONTRACT_FILE = "phase2.yaml"
HTTP_METHODS = ("get", "head", "post", "put", "patch", "delete", "options", "trace")


class ContractNotFound(RuntimeError):
    """No copy of phase2.yaml could be located."""


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    location: str  # path | query | header
    required: bool
    schema: Mapping[str, Any]

    @property
    def key(self) -> str:
        # Header names are case-insensitive; the gateway looks them up lower-cased.
        return self.name.lower() if self.location == "header" else self.name


@dataclass(frozen=True, slots=True)
class RequestBody:
    required: bool
    media_types: Mapping[str, Mapping[str, Any]]  # media type -> schema


@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # the template, without the server's /v2 prefix
    scopes: frozenset[str] | None  # None: no credentials needed
    feature_flag: str | None
    parameters: tuple[Parameter, ...]
    body: RequestBody | None
    statuses: frozenset[int]


@dataclass(frozen=True, slots=True)
class PathItem:
    template: str
    pattern: re.Pattern[str] | None  # None for a template without parameters
    operations: Mapping[str, Operation]  # upper-case method -> operation

    @property
    def allow(self) -> str:
        return ", ".join(self.operations)


@dataclass(frozen=True, slots=True)
class Contract:
    document: Mapping[str, Any]  # with every internal $ref resolved
    api_version: str
    base_path: str
    paths: tuple[PathItem, ...]
    feature_flags: tuple[str, ...]
    scopes: tuple[str, ...]
    operations: Mapping[str, Operation]  # by operationId
    # RuntimeStatus' `x-transitions`: each status → the statuses it may change to next.
    runtime_transitions: Mapping[str, frozenset[str]]


def locate_contract() -> Path:
    """The path of phase2.yaml: source checkout first, then an installed wheel."""
    package_dir = Path(__file__).resolve().parents[1]  # phase2_reference/, this module is in gateway/
    candidates = [
        package_dir.parent / "openapi" / CONTRACT_FILE,
        package_dir / "_contract_files" / CONTRACT_FILE,
    ]
    # find_spec on a top-level name locates the package without executing it.
    spec = importlib.util.find_spec("conformance")
    if spec is not None and spec.submodule_search_locations:
        candidates.extend(
            Path(location) / "_contract_files" / CONTRACT_FILE for location in spec.submodule_search_locations
        )
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ContractNotFound(f"cannot find {CONTRACT_FILE}; looked in: {', '.join(map(str, candidates))}")


def resolve_refs(node: Any, root: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """A copy of `node` with every internal `$ref` replaced by its target (the contract has no cycles)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            if ref in seen:
                raise ValueError(f"recursive $ref {ref}")
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            resolved = resolve_refs(target, root, (*seen, ref))
            siblings = {key: value for key, value in node.items() if key != "$ref"}
            if siblings and isinstance(resolved, dict):
                return {**resolved, **resolve_refs(siblings, root, seen)}
            return resolved
        return {key: resolve_refs(value, root, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve_refs(item, root, seen) for item in node]
    return node


def _template_pattern(template: str) -> re.Pattern[str] | None:
    if "{" not in template:
        return None
    parts = re.split(r"\{([A-Za-z0-9_]+)\}", template)
    regex = "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)" for index, part in enumerate(parts))
    return re.compile(f"^{regex}$")


def _scopes(operation: Mapping[str, Any], default: list[Any]) -> frozenset[str] | None:
    requirements = operation.get("security", default)
    if not requirements:
        return None
    # The operations offer oauth2 (with scopes) or a plain bearer JWT; the scopes are what a token must hold.
    scopes: set[str] = set()
    for requirement in requirements:
        for scheme_scopes in requirement.values():
            scopes.update(scheme_scopes)
    return frozenset(scopes)


def _parameters(path_item: Mapping[str, Any], operation: Mapping[str, Any]) -> tuple[Parameter, ...]:
    merged: dict[tuple[str, str], Parameter] = {}
    for raw in [*path_item.get("parameters", []), *operation.get("parameters", [])]:
        parameter = Parameter(
            name=raw["name"],
            location=raw["in"],
            required=bool(raw.get("required", False)),
            schema=raw.get("schema", {}),
        )
        merged[(parameter.location, parameter.key)] = parameter
    return tuple(merged.values())


def build_contract(raw: Mapping[str, Any]) -> Contract:
    document = resolve_refs(copy.deepcopy(dict(raw)), raw)
    default_security = document.get("security", [])
    paths: list[PathItem] = []
    for template, path_item in document["paths"].items():
        operations: dict[str, Operation] = {}
        for method in HTTP_METHODS:
            if method not in path_item:
                continue
            spec = path_item[method]
            body_spec = spec.get("requestBody")
            body = None
            if body_spec is not None:
                body = RequestBody(
                    required=bool(body_spec.get("required", False)),
                    media_types={media: content.get("schema", {}) for media, content in body_spec["content"].items()},
                )
            operations[method.upper()] = Operation(
                operation_id=spec["operationId"],
                method=method.upper(),
                path=template,
                scopes=_scopes(spec, default_security),
                feature_flag=spec.get("x-feature-flag"),
                parameters=_parameters(path_item, spec),
                body=body,
                statuses=frozenset(int(code) for code in spec["responses"] if code.isdigit()),
            )
        paths.append(PathItem(template=template, pattern=_template_pattern(template), operations=operations))
    server_url = document["servers"][0]["url"]
    base_path = "/" + server_url.split("://", 1)[-1].split("/", 1)[-1] if "/" in server_url.split("://", 1)[-1] else ""
    schemes = document["components"]["securitySchemes"]
    scopes = tuple(schemes["oauth2"]["flows"]["clientCredentials"]["scopes"])
    return Contract(
        document=document,
        api_version=str(document["info"]["version"]),
        base_path=base_path.rstrip("/"),
        paths=tuple(paths),
        feature_flags=tuple(document["components"]["schemas"]["FeatureFlag"]["enum"]),
        scopes=scopes,
        operations={op.operation_id: op for item in paths for op in item.operations.values()},
        runtime_transitions={
            str(status): frozenset(map(str, following))
            for status, following in document["components"]["schemas"]["RuntimeStatus"]["x-transitions"].items()
        },
    )


@functools.cache
def load_contract(path: Path | None = None) -> Contract:
    """The parsed contract; cached, because several apps in one process share it."""
    source = path or locate_contract()
    # libyaml's loader parses the contract an order of magnitude faster than the pure-Python one.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with source.open(encoding="utf-8") as handle:
        raw = yaml.load(handle, Loader=loader)
    return build_contract(raw)
