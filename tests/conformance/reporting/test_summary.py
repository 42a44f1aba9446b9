"""summary.json against its published JSON Schema, hand-built and from real runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conformance.reporting.summary import summary_document
from conformance.results import SUMMARY_SCHEMA_VERSION, RunResult
from tests.conformance.reporting.conftest import SCHEMA
from tests.conftest import SuiteRun


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = target
    return schema


def declared(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any] | None:
    """The properties a schema names, its allOf branches included; None if it names none."""
    schema = resolve(schema, root)
    properties = dict(schema["properties"]) if "properties" in schema else None
    for branch in schema.get("allOf", []):
        more = declared(branch, root)
        if more is not None:
            properties = {**more, **(properties or {})}
    return properties


def undeclared(document: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "$") -> list[str]:
    """Keys the output has but the schema does not describe (so every field is documented)."""
    schema = resolve(schema, root)
    for branch in schema.get("oneOf", []):
        if jsonschema.Draft202012Validator({**branch, "$defs": root["$defs"]}).is_valid(document):
            return undeclared(document, branch, root, path)
    missing: list[str] = []
    if isinstance(document, dict):
        properties = declared(schema, root)
        for key, value in document.items():
            if properties is not None:
                if key not in properties:
                    missing.append(f"{path}.{key}")
                else:
                    missing += undeclared(value, properties[key], root, f"{path}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                missing += undeclared(value, schema["additionalProperties"], root, f"{path}.{key}")
    elif isinstance(document, list) and isinstance(schema.get("items"), dict):
        for index, value in enumerate(document):
            missing += undeclared(value, schema["items"], root, f"{path}[{index}]")
    return missing


def test_the_schema_is_valid_draft_2020_12_and_versioned() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema_version"]["const"] == SUMMARY_SCHEMA_VERSION
    validator()


@pytest.mark.parametrize("fixture", ["failing_result", "passing_result"])
def test_hand_built_summaries_validate_and_every_field_is_documented(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    result: RunResult = request.getfixturevalue(fixture)
    document = json.loads(json.dumps(summary_document(result)))
    errors = sorted(validator().iter_errors(document), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert undeclared(document, schema, schema) == []


def test_a_document_breaking_the_schema_is_refused(failing_result: RunResult) -> None:
    document = json.loads(json.dumps(summary_document(failing_result)))
    document["verdict"] = "maybe"
    document["requirements"]["P2-CON-003"]["failures"][0]["severity"] = "catastrophic"
    del document["seed"]
    messages = {e.message for e in validator().iter_errors(document)}
    assert any("'maybe'" in m for m in messages)
    assert any("'catastrophic'" in m for m in messages)
    assert any("'seed' is a required property" in m for m in messages)


@pytest.mark.parametrize("fixture", ["reference_run", "broken_reference_run"])
def test_real_summaries_validate(fixture: str, request: pytest.FixtureRequest) -> None:
    run: SuiteRun = request.getfixturevalue(fixture)
    assert run.exit_code in (0, 1), run.stderr
    document = json.loads(Path(run.report_dir, "summary.json").read_text(encoding="utf-8"))
    errors = sorted(validator().iter_errors(document), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert undeclared(document, schema, schema) == []


def test_the_broken_reference_produces_failures_with_exchanges(broken_reference_run: SuiteRun) -> None:
    summary = broken_reference_run.summary
    assert summary["verdict"] != "pass"
    failures = [f for r in summary["requirements"].values() for f in r["failures"]]
    assert any(f["exchange"] is not None and f["curl"] for f in failures), "no failure carries an exchange"
