"""The gateway: routes a request to its operation and runs the request pipeline in order.

    route (404 / 405 + Allow) → feature flag (404) → auth (401 / 403) → rate limit (429)
    → body size (413) → media type (415) → parse (400) → parameters (400; 428 for If-Match)
    → body schema (422; 400 invalid_request on the token operations) → handler

Every rule above is read from the contract at start-up (paths, methods, scopes, flags,
parameter and body schemas), so the gateway cannot drift from phase2.yaml.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.types import Receive, Scope, Send

from phase2_reference.gateway import oauth_routes
from phase2_reference.gateway.auth import authenticate
from phase2_reference.gateway.contract import Operation, PathItem
from phase2_reference.gateway.handlers import HANDLERS
from phase2_reference.gateway.http import Call, Reply, RequestContext, context_of, send_reply
from phase2_reference.gateway.state import AppState
from phase2_reference.gateway.validation import Issue, OperationValidator
from phase2_reference.shared.jsonutil import MalformedJSON, loads_strict
from phase2_reference.shared.problems import PROBLEM_JSON, ProblemError, bad_request, unavailable, unprocessable
from phase2_reference.store.sqlite import StoreUnavailable

MAX_BODY_BYTES = 1024 * 1024
UNLIMITED_BODY_BYTES = 64 * 1024 * 1024  # what the fault no-body-limit still reads, to stay finite
TOKEN_OPERATIONS = frozenset({"login", "refreshToken"})
NO_STORE_OPERATIONS = frozenset(
    {
        "login",
        "refreshToken",
        "getLiveness",
        "headLiveness",
        "getReadiness",
        "headReadiness",
        "getMetrics",
        "streamEvents",
    }
)
HEALTH_PATHS = frozenset({"/healthz", "/readyz"})

ExtraHandler = Callable[[AppState, RequestContext, bytes], Awaitable[Reply]]
# A route outside the contract: a name for logs and faults, and its handler by method.
Route = tuple[str, dict[str, ExtraHandler]]


class ClientDisconnected(Exception):
    """The client went away while its body was being read."""


def _media_type(value: str | None) -> tuple[str, dict[str, str]]:
    if not value:
        return "", {}
    media, *raw_parameters = value.split(";")
    parameters = {}
    for raw in raw_parameters:
        name, _, parameter_value = raw.partition("=")
        parameters[name.strip().lower()] = parameter_value.strip().strip('"').lower()
    return media.strip().lower(), parameters


class Gateway:
    def __init__(self, state: AppState, test_routes: Mapping[str, Route] | None = None) -> None:
        self.state = state
        contract = state.contract
        missing = sorted(set(contract.operations) - HANDLERS.keys())
        if missing:
            raise RuntimeError(f"operations without a handler: {', '.join(missing)}")
        self.validators = {op_id: OperationValidator.build(op) for op_id, op in contract.operations.items()}
        self.base_path = contract.base_path
        self.static_routes = {item.template: item for item in contract.paths if item.pattern is None}
        self.dynamic_routes = [item for item in contract.paths if item.pattern is not None]
        # Routes outside the contract: path -> (a name for logs and faults, method -> handler).
        self.extra_routes: dict[str, Route] = {
            "/oauth2/token": ("oauthToken", {"POST": self._token_endpoint}),
            "/.well-known/jwks.json": ("jwks", {"GET": self._jwks}),
            "/.well-known/oauth-authorization-server": ("oauthMetadata", {"GET": self._metadata}),
        }
        # The test-only controls hook in here, handed over by create_app; the gateway never imports them.
        self.extra_routes.update(test_routes or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        context = context_of(scope)
        self.state.orchestrator.ensure_started()
        try:
            reply = await self.dispatch(scope, receive, context)
        except ProblemError as problem:
            reply = self.problem_reply(problem, context)
        except (StoreUnavailable, sqlite3.OperationalError):
            reply = self.problem_reply(unavailable(), context)
        except ClientDisconnected:
            return
        try:
            # Nothing is answered before the changes it saw or made are committed.
            await self.state.store.settled()
        except StoreUnavailable:
            reply = self.problem_reply(unavailable(), context)
        self._decorate(reply, context)
        await send_reply(send, reply, context)

    def problem_reply(self, problem: ProblemError, context: RequestContext) -> Reply:
        return Reply(
            problem.status,
            problem.body(context.request_id),
            content_type=PROBLEM_JSON,
            headers=problem.headers,
        )

    @staticmethod
    def _decorate(reply: Reply, context: RequestContext) -> None:
        names = {name for name, _ in reply.headers}
        if (context.operation_id in NO_STORE_OPERATIONS or context.route == "/oauth2/token") and (
            "cache-control" not in names
        ):
            reply.headers.append(("cache-control", "no-store"))
        if context.operation_id in TOKEN_OPERATIONS and "pragma" not in names:
            reply.headers.append(("pragma", "no-cache"))

    # --- routing -------------------------------------------------------------------------------

    def match(self, scope: Scope) -> tuple[PathItem, dict[str, str]] | None:
        path: str = scope["path"]
        if not path.startswith(self.base_path + "/"):
            return None
        item = self.static_routes.get(path[len(self.base_path) :])
        if item is not None:
            return item, {}
        raw_path = scope.get("raw_path")
        # Match on the raw path so an encoded "/" inside an id cannot split it into two segments.
        raw = raw_path.decode("latin-1") if raw_path else path
        raw = raw[len(self.base_path) :] if raw.startswith(self.base_path + "/") else raw
        for item in self.dynamic_routes:
            assert item.pattern is not None
            found = item.pattern.match(raw)
            if found:
                return item, {name: unquote(value, errors="replace") for name, value in found.groupdict().items()}
        return None

    async def dispatch(self, scope: Scope, receive: Receive, context: RequestContext) -> Reply:
        matched = self.match(scope)
        if matched is None:
            extra = self.extra_routes.get(scope["path"])
            if extra is None:
                raise ProblemError(404, "not-found", "No such path.")
            context.route = scope["path"]
            name, methods = extra
            handler = methods.get(context.method)
            if handler is None:
                raise ProblemError(
                    405,
                    "method-not-allowed",
                    f"{context.method} is not allowed here.",
                    headers=[("allow", ", ".join(methods))],
                )
            context.operation_id = name
            body = await self._read_body(receive, context, MAX_BODY_BYTES) if context.method == "POST" else b""
            return await handler(self.state, context, body)
        item, path_values = matched
        context.route = item.template
        operation = item.operations.get(context.method)
        allow = item.allow
        if item.template in HEALTH_PATHS and self.state.faults.active("health-no-head"):
            allow = "GET"
            operation = None if context.method == "HEAD" else operation
        if operation is None:
            raise ProblemError(
                405,
                "method-not-allowed",
                f"{context.method} is not allowed here.",
                headers=[("allow", allow)],
            )
        context.operation_id = operation.operation_id
        return await self.run(operation, path_values, scope, receive, context)

    # --- the pipeline --------------------------------------------------------------------------

    async def run(
        self,
        operation: Operation,
        path_values: dict[str, str],
        scope: Scope,
        receive: Receive,
        context: RequestContext,
    ) -> Reply:
        state = self.state
        faults = state.faults
        if (
            operation.feature_flag is not None
            and operation.feature_flag not in state.config.feature_flags
            and not faults.active("flag-always-on")
        ):
            raise ProblemError(404, "not-found", "No such path.")
        scopes = operation.scopes
        if (
            scopes is None
            and operation.operation_id in ("getLiveness", "headLiveness")
            and faults.active("healthz-needs-auth")
        ):
            scopes = frozenset()
        principal = None
        if scopes is not None:
            principal = await authenticate(context.headers, scopes, state.verifier, faults)
            context.tenant = principal.tenant
            context.client_id = principal.client_id
        if state.rate_limiter is not None and 429 in operation.statuses:
            client = scope.get("client")
            key = principal.client_id if principal is not None else (client[0] if client else "unknown")
            wait = state.rate_limiter.acquire(key)
            if wait is not None:
                raise ProblemError(
                    429, "rate-limited", f"Try again in {wait} seconds.", headers=[("retry-after", str(wait))]
                )
        validator = self.validators[operation.operation_id]
        media_type, document = None, None
        if operation.body is not None:
            media_type, document = await self._parse_body(operation, receive, context)
        path_params, query, headers = self._parameters(validator, operation, path_values, scope, context)
        if media_type is not None:
            document = self._validate_body(validator, operation, media_type, document)
        call = Call(context, path_params, query, headers, document, principal, receive, scope)
        return await HANDLERS[operation.operation_id](state, call)

    async def _read_body(self, receive: Receive, context: RequestContext, limit: int) -> bytes:
        declared = context.headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                raise bad_request("Content-Length is not a number.")
            if int(declared) > limit:
                raise ProblemError(413, "payload-too-large", f"Request bodies are limited to {limit} bytes.")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise ProblemError(413, "payload-too-large", f"Request bodies are limited to {limit} bytes.")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _parse_body(
        self, operation: Operation, receive: Receive, context: RequestContext
    ) -> tuple[str | None, Any]:
        spec = operation.body
        assert spec is not None
        limit = UNLIMITED_BODY_BYTES if self.state.faults.active("no-body-limit") else MAX_BODY_BYTES
        raw = await self._read_body(receive, context, limit)
        if not raw and not spec.required:
            return None, None
        media_type, parameters = _media_type(context.headers.get("content-type"))
        charset = parameters.get("charset", "utf-8")
        if media_type not in spec.media_types or charset not in ("utf-8", "utf8"):
            if not self.state.faults.active("ignore-content-type"):
                accepted = ", ".join(spec.media_types)
                raise ProblemError(415, "unsupported-media-type", f"This operation accepts {accepted} in UTF-8.")
            media_type = next(iter(spec.media_types))
        try:
            document = loads_strict(raw)
        except MalformedJSON as exc:
            if self.state.faults.active("malformed-json-500"):
                raise RuntimeError("malformed body") from exc
            raise self._bad_input(operation, str(exc) if raw else "A request body is required.", []) from None
        if (
            operation.operation_id in ("createWorld", "updateWorld")
            and isinstance(document, dict)
            and isinstance(document.get("name"), str)
            and not document["name"].isascii()
            and self.state.faults.active("server-error-on-unicode-name")
        ):
            raise RuntimeError("name is not ASCII")
        return media_type, document

    @staticmethod
    def _bad_input(operation: Operation, detail: str, issues: list[Issue]) -> ProblemError:
        errors = [issue.as_json() for issue in issues]
        if operation.operation_id in TOKEN_OPERATIONS:
            extra: dict[str, Any] = {"error": "invalid_request"}
            if errors:
                extra["errors"] = errors
            return ProblemError(400, "invalid-request", detail, title="Invalid request", extra=extra)
        return bad_request(detail, errors)

    def _parameters(
        self,
        validator: OperationValidator,
        operation: Operation,
        path_values: Mapping[str, str],
        scope: Scope,
        context: RequestContext,
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        issues: list[Issue] = []
        path_params, found = validator.path.read(path_values)
        issues.extend(found)
        raw_query: dict[str, str] = {}
        query_string: bytes = scope.get("query_string", b"")
        if query_string and validator.query.parameters:
            pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="replace")
            for name, value in pairs:
                if name in validator.query.parameters:
                    if name in raw_query:
                        issues.append(Issue(f"#/query/{name}", "May be given only once."))
                    raw_query[name] = value
        query, found = validator.query.read(raw_query)
        issues.extend(found)
        raw_headers = {name: context.headers[name] for name in validator.header.parameters if name in context.headers}
        headers, found = validator.header.read(raw_headers)
        if_match_missing = any(
            issue.pointer == "#/header/if-match" and "if-match" not in raw_headers for issue in found
        )
        issues.extend(issue for issue in found if not (if_match_missing and issue.pointer == "#/header/if-match"))
        if issues:
            raise self._bad_input(operation, "A parameter is invalid.", issues)
        if if_match_missing and not self.state.faults.active("if-match-optional"):
            raise ProblemError(428, "precondition-required", "Send If-Match with the world's ETag.")
        for name in ("world_id", "runtime_id"):
            if name in path_params:
                path_params[name] = str(path_params[name]).lower()
        return path_params, query, headers

    def _validate_body(
        self, validator: OperationValidator, operation: Operation, media_type: str, document: Any
    ) -> Any:
        body = validator.body
        assert body is not None
        if self.state.faults.active("accept-unknown-fields") and isinstance(document, dict):
            known = body.properties[media_type]
            document = {key: value for key, value in document.items() if key in known}
        if self.state.faults.active("clamp-tick-rate") and isinstance(document, dict):
            document = _clamped_tick_rate(document)
        issues = body.issues(media_type, document)
        if issues:
            if operation.operation_id in TOKEN_OPERATIONS:
                raise self._bad_input(operation, "The request body is invalid.", issues)
            raise unprocessable("The request body is invalid.", [issue.as_json() for issue in issues])
        return document

    # --- routes outside the contract -----------------------------------------------------------

    async def _token_endpoint(self, state: AppState, context: RequestContext, body: bytes) -> Reply:
        return await oauth_routes.token_endpoint(state, context.headers, body)

    async def _jwks(self, state: AppState, context: RequestContext, body: bytes) -> Reply:
        return oauth_routes.jwks(state)

    async def _metadata(self, state: AppState, context: RequestContext, body: bytes) -> Reply:
        return oauth_routes.metadata(state)


def _clamped_tick_rate(document: dict[str, Any]) -> dict[str, Any]:
    """The `clamp-tick-rate` fault: an out-of-range tick rate is forced into range, not refused."""
    settings = document.get("settings")
    rate = settings.get("tick_rate_hz") if isinstance(settings, dict) else None
    if isinstance(rate, int) and not isinstance(rate, bool) and not 1 <= rate <= 240:
        assert isinstance(settings, dict)
        return {**document, "settings": {**settings, "tick_rate_hz": min(max(rate, 1), 240)}}
    return document
