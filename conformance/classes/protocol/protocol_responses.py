"""Cross-cutting rules checked on every response the run receives."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from conformance.checks.context import ResponseContext
from conformance.checks.registry import CheckFailed, check
from conformance.client.observed import ObservedResponse
from conformance.contract.schemas import FORMATS, contract_registry, escape_pointer
from conformance.contract.spec import Contract

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Signs of internals leaking into a body: tracebacks, exception class names, source paths, SQL.
INTERNALS = (
    re.compile(r"Traceback \(most recent call last\)"),
    re.compile(r"File \"[^\"]+\.py\", line \d+"),
    re.compile(r"\b(?:[A-Z][A-Za-z]+)?(?:Exception|Error)\([^)]*\)"),
    re.compile(r"\bat [a-z][\w$]*(?:\.[\w$]+){2,}\([\w$]+\.(?:java|kt|scala):\d+\)"),
    re.compile(r"(?:/usr/lib|/usr/local/lib|site-packages|node_modules)/"),
    re.compile(r"\bsqlite3?\.\w+Error|\bSQLSTATE\b|\bpsycopg2?\b", re.IGNORECASE),
    re.compile(r"\b(?:SELECT\s+[\w*, ]+\s+FROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b", re.IGNORECASE),
    re.compile(r"\"(?:stack|stacktrace|stack_trace|traceback|exception)\"\s*:", re.IGNORECASE),
)
# Responses the contract lets carry another document than a problem.
PROBLEM_EXEMPT = {("getReadiness", 503)}


def _is_error(ctx: ResponseContext) -> bool:
    return ctx.response.status >= 400 and ctx.response.method != "HEAD"


@check("P2-PRO-001", kind="response")
def check_problem_details(ctx: ResponseContext) -> bool | None:
    """4xx and 5xx bodies are RFC 9457 problem documents whose status matches the response."""
    response = ctx.response
    if not _is_error(ctx) or (ctx.operation_id, response.status) in PROBLEM_EXEMPT:
        return None
    if response.media_type != PROBLEM_MEDIA_TYPE:
        raise CheckFailed(
            "Error response is not application/problem+json",
            f"{response.status} answered with Content-Type {response.headers.get('content-type', '(none)')!r}",
            expected=f"Content-Type {PROBLEM_MEDIA_TYPE}",
            actual=f"answered {response.status} with Content-Type {response.headers.get('content-type', '(none)')!r}",
        )
    document = response.json_or_none()
    if not isinstance(document, dict):
        raise CheckFailed("Problem document is not a JSON object", f"{response.status} body: {response.text()[:200]!r}")
    missing = [member for member in ("type", "title", "status") if member not in document]
    if missing:
        raise CheckFailed("Problem document lacks required members", f"missing {', '.join(missing)}")
    if document["status"] != response.status:
        raise CheckFailed(
            "Problem status differs from the HTTP status",
            f"HTTP {response.status} but the problem says status={document['status']!r}",
        )
    if not isinstance(document["type"], str) or not isinstance(document["title"], str):
        raise CheckFailed("Problem type and title must be strings", repr({k: document[k] for k in ("type", "title")}))
    return True


@check("P2-PRO-002", kind="response")
def check_no_internals(ctx: ResponseContext) -> bool | None:
    """Error bodies do not expose stack traces, exception names, source paths or SQL."""
    if not _is_error(ctx) or not ctx.response.body:
        return None
    # Scan the raw body and, for JSON, its decoded strings (JSON escapes the quotes of a traceback).
    text = ctx.response.text() + "\n" + "\n".join(_strings(ctx.response.json_or_none()))
    for pattern in INTERNALS:
        match = pattern.search(text)
        if match:
            start = max(match.start() - 40, 0)
            raise CheckFailed(
                "Error response exposes internals",
                f"{ctx.response.status} body contains {match.group(0)!r} near {text[start : match.end() + 40]!r}",
            )
    return True


def _strings(document: Any) -> list[str]:
    found: list[str] = []
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


@check("P2-PRO-003", kind="response")
def check_location_on_create(ctx: ResponseContext) -> bool | None:
    """201 and 202 responses carry a Location header."""
    if ctx.response.status not in (201, 202):
        return None
    location = ctx.response.headers.get("location", "").strip()
    if not location:
        raise CheckFailed(
            f"{ctx.response.status} response without Location",
            "the contract requires Location",
            expected="a Location header",
            actual=f"answered {ctx.response.status} without Location",
        )
    document = ctx.response.json_or_none()
    if isinstance(document, dict) and isinstance(document.get("id"), str) and document["id"] not in location:
        raise CheckFailed(
            "Location does not name the resource",
            f"Location {location!r} does not contain the id {document['id']!r} of the body",
            expected=f"a Location naming {document['id']}",
            actual=f"Location {location!r}",
        )
    return True


ETAG_OPERATIONS = frozenset({"createWorld", "getWorld", "updateWorld", "getRuntime"})


@check("P2-PRO-004", kind="response")
def check_etag_matches_version(ctx: ResponseContext) -> bool | None:
    """World and runtime representations carry an ETag equal to their quoted version."""
    if ctx.operation_id not in ETAG_OPERATIONS or not 200 <= ctx.response.status < 300:
        return None
    etag = ctx.response.headers.get("etag")
    if not etag:
        raise CheckFailed(
            "Representation without ETag",
            f"{ctx.response.status} of {ctx.operation_id} has no ETag",
            expected="an ETag header",
            actual=f"answered {ctx.response.status} without ETag",
        )
    document = ctx.response.json_or_none()
    if isinstance(document, dict) and "version" in document and etag != f'"{document["version"]}"':
        raise CheckFailed(
            "ETag does not match the representation's version",
            f"ETag {etag!r} but version {document['version']!r}",
            expected=f"ETag '\"{document['version']}\"'",
            actual=f"ETag {etag!r}",
        )
    return True


@check("P2-PRO-005", kind="response")
def check_www_authenticate(ctx: ResponseContext) -> bool | None:
    """401 responses carry a Bearer challenge (Basic for client authentication at login)."""
    if ctx.response.status != 401:
        return None
    challenge = ctx.response.headers.get("www-authenticate", "")
    schemes = {part.strip().split(" ")[0].lower() for part in re.split(r",\s*(?=[A-Za-z]+ )", challenge) if part}
    allowed = {"bearer", "basic"} if ctx.operation_id in {"login", "refreshToken"} else {"bearer"}
    if not challenge or not schemes & allowed:
        raise CheckFailed(
            "401 without a Bearer challenge",
            f"WWW-Authenticate is {challenge or '(absent)'!r}; expected the {' or '.join(sorted(allowed))} scheme",
            expected=f"a {' or '.join(sorted(allowed))} challenge",
            actual=f"WWW-Authenticate {challenge or '(absent)'!r}",
        )
    return True


@check("P2-PRO-006", kind="response")
def check_allow_on_405(ctx: ResponseContext) -> bool | None:
    """405 responses list the allowed methods in Allow."""
    if ctx.response.status != 405:
        return None
    if not ctx.response.headers.get("allow", "").strip():
        raise CheckFailed(
            "405 without Allow",
            "RFC 9110 requires Allow on 405",
            expected="an Allow header",
            actual="answered 405 without Allow",
        )
    return True


@check("P2-PRO-012", kind="response")
def check_retry_after(ctx: ResponseContext) -> bool | None:
    """429 and 503 responses carry Retry-After."""
    if ctx.response.status not in (429, 503):
        return None
    value = ctx.response.headers.get("retry-after", "").strip()
    if not value:
        raise CheckFailed(
            f"{ctx.response.status} without Retry-After",
            "the contract requires Retry-After",
            expected="a Retry-After header",
            actual=f"answered {ctx.response.status} without Retry-After",
        )
    if not (value.isascii() and value.isdigit()):  # delay-seconds: ASCII digits (RFC 9110 §10.2.3)
        try:
            datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT")
        except ValueError:
            raise CheckFailed("Retry-After is neither seconds nor an HTTP date", repr(value)) from None
    return True


# --- rules judged against the contract's response schema ----------------------------------------


@cache
def _response_validator(
    contract: Contract, operation_id: str, status: int, media_type: str
) -> Draft202012Validator | None:
    operation = contract.operation(operation_id)
    responses = contract.raw["paths"][operation.path][operation.method.lower()]["responses"]
    key = str(status) if str(status) in responses else "default" if "default" in responses else None
    if key is None:
        return None
    pointer = f"/paths/{escape_pointer(operation.path)}/{operation.method.lower()}/responses/{key}"
    node = responses[key]
    if "$ref" in node:
        pointer = node["$ref"].removeprefix("#")
        node = _resolve(contract.raw, pointer)
    if media_type not in node.get("content", {}):
        return None
    schema = {"$ref": f"urn:phase2#{pointer}/content/{escape_pointer(media_type)}/schema"}
    return Draft202012Validator(schema, registry=contract_registry(contract), format_checker=FORMATS)


def _resolve(raw: Any, pointer: str) -> Any:
    node = raw
    for part in pointer.lstrip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _schema_errors(ctx: ResponseContext, keywords: set[str], value: str | None = None) -> list[str] | None:
    """The schema errors of the response of `keywords` (and `value`); None when it has no schema."""
    if "schema_errors" not in ctx.derived:
        # Validated once per response, whichever check asks first: validating is most of their cost.
        ctx.derived["schema_errors"] = _all_schema_errors(ctx)
    found: list[tuple[str, Any, str]] | None = ctx.derived["schema_errors"]
    if found is None:
        return None
    return [
        message
        for keyword, keyword_value, message in found
        if keyword in keywords and (value is None or keyword_value == value)
    ]


def _all_schema_errors(ctx: ResponseContext) -> list[tuple[str, Any, str]] | None:
    response = ctx.response
    if ctx.operation_id is None or response.method == "HEAD" or not response.body:
        return None
    validator = _response_validator(ctx.contract, ctx.operation_id, response.status, response.media_type)
    document = response.json_or_none() if validator is not None else None
    if validator is None or document is None:
        return None
    return [
        (str(error.validator), error.validator_value, f"{_where(error.absolute_path)}: {error.message}")
        for error in validator.iter_errors(document)
    ]


def _where(path: Iterable[Any]) -> str:
    return "/".join(map(str, path)) or "(root)"


def response_schema_errors(contract: Contract, response: ObservedResponse) -> list[str] | None:
    """How a response's JSON body breaks the schema the contract declares for it (for scenario checks).

    None when the contract declares no JSON schema for this operation, status and media type, or
    when the body is not JSON at all; an empty list when the body validates.
    """
    if response.operation is None or response.method == "HEAD":
        return None
    operation_id = response.operation.operation_id
    validator = _response_validator(contract, operation_id, response.status, response.media_type)
    document = response.json_or_none() if validator is not None and response.body else None
    if validator is None or document is None:
        return None
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


@check("P2-PRO-007", kind="response")
def check_rfc3339_timestamps(ctx: ResponseContext) -> bool | None:
    """Every date-time field of a response body is an RFC 3339 timestamp with a time zone."""
    errors = _schema_errors(ctx, {"format"}, "date-time")
    if errors is None:
        return None
    if errors:
        raise CheckFailed("Timestamp is not RFC 3339", "; ".join(errors[:5]))
    return True


@check("P2-PRO-008", kind="response")
def check_enum_values(ctx: ResponseContext) -> bool | None:
    """Every enumerated field of a response body holds a value the contract lists."""
    errors = _schema_errors(ctx, {"enum", "const"})
    if errors is None:
        return None
    if errors:
        raise CheckFailed("Value outside the contract's enumeration", "; ".join(errors[:5]))
    return True
