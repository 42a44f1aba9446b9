"""Request validators derived from the contract: one set per operation, built once at start-up.

Parameters arrive as text; they are read the way the contract types them (an integer query
parameter from its decimal text) and validated with JSON Schema 2020-12 with format checking
(uuid, date-time). Bodies are validated as parsed JSON against the operation's body schema.

Each schema gets two validators: jsonschema-rs (compiled, ECMA-262 regexes, the engine
Schemathesis judges requests with) answers "valid?" in about a microsecond on every request;
only when it says no does the jsonschema package walk the document for the errors and their
pointers. Should the two ever disagree on an invalid document, the jsonschema-rs errors are used.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError

from phase2_reference.gateway.contract import Operation, Parameter

FORMAT_CHECKER = FormatChecker(formats=("uuid", "date-time"))


@functools.cache
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """`pattern` with ECMA-262's `$`: the very end of the text (Python's also allows a final newline).

    JSON Schema patterns are ECMA-262 regexes; read the Python way, `^[a-z]+$` would accept "abc\n".
    """
    converted: list[str] = []
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            converted.append(r"\Z")
            continue
        converted.append(char)
    return re.compile("".join(converted))


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# Draft 2020-12 with the `pattern` keyword (used by propertyNames too) read as ECMA-262 requires.
Validator = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})  # type: ignore[no-untyped-call]
MAX_INTEGER_TEXT = 32  # digits beyond this are never a valid limit, wait or max_events


@dataclass(frozen=True, slots=True)
class Issue:
    pointer: str
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"pointer": self.pointer, "detail": self.detail}


def _types(schema: Mapping[str, Any]) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    return set()


def read_wire_value(text: str, schema: Mapping[str, Any]) -> Any:
    """A parameter's text as the contract types it; text that is no valid number stays text (and fails)."""
    types = _types(schema)
    if (
        "integer" in types
        and text.isascii()
        and "_" not in text
        and text == text.strip()
        and len(text) <= MAX_INTEGER_TEXT
    ):
        try:
            return int(text)
        except ValueError:
            return text
    return text


def _message(error: ValidationError) -> str:
    # jsonschema's messages quote the offending value; keep them short and free of huge inputs.
    message = str(error.message)
    if len(message) > 200:
        message = message[:197] + "..."
    return message


def _pointer(prefix: str, error: ValidationError) -> str:
    path = "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in error.absolute_path)
    required = error.validator_value
    if error.validator == "required" and isinstance(error.instance, dict) and isinstance(required, list):
        # The missing property is named in the message, not the path.
        missing = [name for name in required if name not in error.instance]
        if missing:
            path = f"{path}/{missing[0]}" if path else str(missing[0])
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        known = set(schema.get("properties", {}))
        extra = sorted(name for name in error.instance if name not in known)
        if extra:
            path = f"{path}/{extra[0]}" if path else str(extra[0])
    return f"{prefix}/{path}" if path else prefix or "/"


@dataclass(frozen=True, slots=True)
class SchemaValidator:
    """One schema: a fast yes/no, and the errors with their pointers when the answer is no."""

    fast: jsonschema_rs.Validator
    detailed: Any  # the jsonschema package's validator (its classes are built at run time)

    @classmethod
    def build(cls, schema: Mapping[str, Any]) -> SchemaValidator:
        return cls(
            fast=jsonschema_rs.Draft202012Validator(dict(schema), validate_formats=True),
            detailed=Validator(dict(schema), format_checker=FORMAT_CHECKER),
        )

    def issues(self, instance: Any, prefix: str) -> list[Issue]:
        if self.fast.is_valid(instance):
            return []
        errors = sorted(self.detailed.iter_errors(instance), key=lambda error: [str(p) for p in error.absolute_path])
        if errors:
            return [Issue(_pointer(prefix, error), _message(error)) for error in errors]
        return [
            Issue(f"{prefix}/" + "/".join(str(part) for part in error.instance_path), error.message[:200])
            for error in self.fast.iter_errors(instance)
        ]


@dataclass(frozen=True, slots=True)
class LocationValidator:
    """Validates every parameter of one location (path, query or header) as one object."""

    location: str
    parameters: Mapping[str, Parameter]  # key (lower-cased for headers) -> parameter
    schema: SchemaValidator

    @classmethod
    def build(cls, location: str, parameters: list[Parameter]) -> LocationValidator:
        properties = {parameter.key: dict(parameter.schema) for parameter in parameters}
        required = [parameter.key for parameter in parameters if parameter.required]
        schema = {"type": "object", "properties": properties, "required": required}
        return cls(
            location=location,
            parameters={parameter.key: parameter for parameter in parameters},
            schema=SchemaValidator.build(schema),
        )

    def read(self, raw: Mapping[str, str]) -> tuple[dict[str, Any], list[Issue]]:
        values = {
            key: read_wire_value(raw[key], parameter.schema) for key, parameter in self.parameters.items() if key in raw
        }
        return values, self.schema.issues(values, f"#/{self.location}")


@dataclass(frozen=True, slots=True)
class BodyValidator:
    media_types: Mapping[str, SchemaValidator]
    required: bool
    properties: Mapping[str, frozenset[str]]  # media type -> top-level property names

    def issues(self, media_type: str, document: Any) -> list[Issue]:
        return self.media_types[media_type].issues(document, "")


@dataclass(frozen=True, slots=True)
class OperationValidator:
    operation: Operation
    path: LocationValidator
    query: LocationValidator
    header: LocationValidator
    body: BodyValidator | None

    @classmethod
    def build(cls, operation: Operation) -> OperationValidator:
        by_location: dict[str, list[Parameter]] = {"path": [], "query": [], "header": []}
        for parameter in operation.parameters:
            by_location.setdefault(parameter.location, []).append(parameter)
        body = None
        if operation.body is not None:
            body = BodyValidator(
                media_types={
                    media: SchemaValidator.build(schema) for media, schema in operation.body.media_types.items()
                },
                required=operation.body.required,
                properties={
                    media: frozenset(schema.get("properties", {}))
                    for media, schema in operation.body.media_types.items()
                },
            )
        return cls(
            operation=operation,
            path=LocationValidator.build("path", by_location["path"]),
            query=LocationValidator.build("query", by_location["query"]),
            header=LocationValidator.build("header", by_location["header"]),
            body=body,
        )
