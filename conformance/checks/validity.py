"""Whether a generated request really conforms to the contract.

Schemathesis occasionally labels a case "positive" that its own schema rejects (seen in 4.32: the
coverage phase sends `If-Match: 0` against a quoted-ETag pattern). Before `positive_data_acceptance`
blames the target for refusing such a case, the case is validated here against the contract's
parameter and body schemas; a case that does not conform is not positive evidence either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from conformance.contract.schemas import FORMATS, contract_registry, escape_pointer
from conformance.contract.spec import Contract, Operation

LOCATIONS = {"path": "path_parameters", "query": "query", "header": "headers", "cookie": "cookies"}


@cache
def _parameter_validators(
    contract: Contract, operation: Operation
) -> tuple[tuple[str, str, bool, Draft202012Validator], ...]:
    item = contract.raw["paths"][operation.path]
    pointer = f"/paths/{escape_pointer(operation.path)}"
    validators = []
    for owner, parameters in (
        ("", item.get("parameters", [])),
        (f"/{operation.method.lower()}", item[operation.method.lower()].get("parameters", [])),
    ):
        for index, parameter in enumerate(parameters):
            resolved = _resolve(contract, parameter)
            location = (
                f"{pointer}{owner}/parameters/{index}"
                if "$ref" not in parameter
                else parameter["$ref"].removeprefix("#")
            )
            schema = {"$ref": f"urn:phase2#{location}/schema"}
            validators.append(
                (
                    resolved["in"],
                    resolved["name"],
                    bool(resolved.get("required", False)),
                    Draft202012Validator(schema, registry=contract_registry(contract), format_checker=FORMATS),
                )
            )
    return tuple(validators)


def _resolve(contract: Contract, node: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        target: Any = contract.raw
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _lookup(values: Mapping[str, Any] | None, name: str, case_insensitive: bool) -> tuple[bool, Any]:
    if not values:
        return False, None
    if case_insensitive:
        for key, value in values.items():
            if key.lower() == name.lower():
                return True, value
        return False, None
    return (name in values), values.get(name)


def parameters_conform(contract: Contract, operation: Operation, case: Any) -> bool:
    for location, name, required, validator in _parameter_validators(contract, operation):
        attribute = LOCATIONS.get(location)
        if attribute is None:
            continue
        present, value = _lookup(getattr(case, attribute, None), name, case_insensitive=location == "header")
        if not present:
            if required:
                return False
            continue
        if not validator.is_valid(value):
            return False
    return True
