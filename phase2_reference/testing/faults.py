"""The fault corpus: test-only ways to break exactly one rule of the contract each.

A fault is declared once here with its name, the requirement ID it breaks and one sentence
saying how. Two kinds exist:

- response faults carry a `mutate` function; one generic middleware applies every active one
  to the finished response (status, headers, body), so a new variant is a few lines here;
- behaviour faults have no `mutate`; the one place in the code they alter asks
  `faults.active("name")`.

They are off unless the server is started with `--fault NAME` (or `create_app` is given the set).
The suite's own tests use them to prove each of its checks can fail.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Exchange:
    """A finished response as the fault middleware sees it, with the request it answers."""

    method: str
    path: str
    route: str
    operation_id: str | None
    request_headers: Mapping[str, str]
    status: int
    headers: list[tuple[str, str]]  # names lower-case
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def set_header(self, name: str, value: str) -> None:
        self.remove_header(name)
        self.headers.append((name, value))

    def remove_header(self, name: str) -> None:
        self.headers = [(key, value) for key, value in self.headers if key != name]

    @property
    def media_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    def is_json(self) -> bool:
        return self.media_type in ("application/json", "application/problem+json") and bool(self.body)

    def json(self) -> Any:
        return json.loads(self.body)

    def set_json(self, document: Any) -> None:
        self.body = json.dumps(document, separators=(",", ":")).encode("utf-8")


Mutator = Callable[[Exchange], None]


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    requirement: str
    description: str
    mutate: Mutator | None = None
    # Mutators that only touch the status line or headers also apply to streamed responses.
    headers_only: bool = False


REGISTRY: dict[str, Fault] = {}


def fault(
    name: str,
    requirement: str,
    description: str,
    mutate: Mutator | None = None,
    *,
    headers_only: bool = False,
) -> None:
    if name in REGISTRY:
        raise ValueError(f"fault {name} declared twice")
    REGISTRY[name] = Fault(name, requirement, description, mutate, headers_only)


@dataclass(frozen=True, slots=True)
class ActiveFaults:
    """The faults switched on for one app."""

    names: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, names: Iterable[str]) -> ActiveFaults:
        chosen = frozenset(names)
        unknown = sorted(chosen - REGISTRY.keys())
        if unknown:
            raise ValueError(f"unknown fault: {', '.join(unknown)}")
        return cls(chosen)

    def active(self, name: str) -> bool:
        if name not in REGISTRY:
            # A typo at a call site would silently never fire; fail loudly instead.
            raise KeyError(f"undeclared fault {name}")
        return name in self.names

    @property
    def mutators(self) -> list[Fault]:
        return [REGISTRY[name] for name in sorted(self.names) if REGISTRY[name].mutate is not None]

    def __bool__(self) -> bool:
        return bool(self.names)


# --- response mutators -------------------------------------------------------------------------

TIMESTAMP_Z = re.compile(rb'("\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z"')
WORLD_OPERATIONS = {"createWorld", "getWorld", "updateWorld"}
TOKEN_OPERATIONS = {"login", "refreshToken", "oauthToken"}
HEALTH_OPERATIONS = {"getLiveness", "headLiveness", "getReadiness", "headReadiness"}


def _is_problem(exchange: Exchange) -> bool:
    return exchange.status >= 400 and exchange.media_type == "application/problem+json" and bool(exchange.body)


def _drop_request_id(exchange: Exchange) -> None:
    exchange.remove_header("x-request-id")


def _fresh_request_id_when_echoed(exchange: Exchange) -> None:
    if "x-request-id" in exchange.request_headers:
        exchange.set_header("x-request-id", str(uuid.uuid4()))


def _constant_request_id(exchange: Exchange) -> None:
    if "x-request-id" not in exchange.request_headers:
        exchange.set_header("x-request-id", "phase2-reference-request")


def _plain_text_errors(exchange: Exchange) -> None:
    if _is_problem(exchange):
        exchange.body = str(exchange.json().get("detail", "error")).encode("utf-8")
        exchange.set_header("content-type", "text/plain; charset=utf-8")


def _problem_status_mismatch(exchange: Exchange) -> None:
    if _is_problem(exchange):
        document = exchange.json()
        document["status"] = 422 if exchange.status == 400 else 400
        exchange.set_json(document)


def _traceback_in_errors(exchange: Exchange) -> None:
    if _is_problem(exchange):
        document = exchange.json()
        document["detail"] = (
            f"{document.get('detail', '')}\nTraceback (most recent call last):\n"
            '  File "/srv/phase2_reference/gateway.py", line 212, in dispatch\n'
            "KeyError: 'world_id'"
        )
        exchange.set_json(document)


def _no_location(exchange: Exchange) -> None:
    if exchange.status in (201, 202):
        exchange.remove_header("location")


def _no_etag_on_get(exchange: Exchange) -> None:
    if exchange.operation_id in ("getWorld", "getRuntime") and exchange.status == 200:
        exchange.remove_header("etag")


def _no_allow(exchange: Exchange) -> None:
    if exchange.status == 405:
        exchange.remove_header("allow")


def _naive_timestamps(exchange: Exchange) -> None:
    if exchange.is_json():
        exchange.body = TIMESTAMP_Z.sub(rb'\1"', exchange.body)


def _unknown_enum_status(exchange: Exchange) -> None:
    if exchange.is_json():
        exchange.body = exchange.body.replace(b'"status":"pending"', b'"status":"queued"')


def _uppercase_running(exchange: Exchange) -> None:
    if exchange.is_json():
        exchange.body = exchange.body.replace(b'"status":"running"', b'"status":"RUNNING"')


def _bearer_token(exchange: Exchange) -> str | None:
    authorization = exchange.request_headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _token_scopes(token: str) -> list[str] | None:
    """The `scope` claim of a JWT, read without verification (the fault only imitates a bug)."""
    import base64

    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    scope = claims.get("scope") if isinstance(claims, dict) else None
    return scope.split() if isinstance(scope, str) else None


def _garbage_token_wrong_error(exchange: Exchange) -> None:
    token = _bearer_token(exchange)
    if exchange.status == 401 and token is not None and token.count(".") != 2:
        exchange.set_header("www-authenticate", 'Bearer realm="phase2", error="invalid_request"')
        if _is_problem(exchange):
            exchange.set_json({**exchange.json(), "error": "invalid_request"})


def _refuse_single_scope(exchange: Exchange) -> None:
    token = _bearer_token(exchange)
    scopes = _token_scopes(token) if token else None
    if 200 <= exchange.status < 300 and scopes is not None and len(scopes) == 1 and exchange.operation_id:
        exchange.status = 403
        exchange.set_header("content-type", "application/problem+json")
        exchange.set_header("www-authenticate", 'Bearer realm="phase2", error="insufficient_scope"')
        exchange.remove_header("etag")
        exchange.remove_header("location")
        exchange.set_json(
            {
                "type": "https://phase2.example/problems/insufficient-scope",
                "title": "Insufficient scope",
                "status": 403,
                "detail": "This token holds too few scopes.",
                "error": "insufficient_scope",
            }
        )


def _metadata_without_jwks(exchange: Exchange) -> None:
    if exchange.operation_id == "oauthMetadata" and exchange.status == 200 and exchange.is_json():
        document = exchange.json()
        document.pop("jwks_uri", None)
        exchange.set_json(document)


def _request_id_with_spaces(exchange: Exchange) -> None:
    if "x-request-id" not in exchange.request_headers:
        exchange.set_header("x-request-id", "req " + str(uuid.uuid4()))


def _created_id_unreachable(exchange: Exchange) -> None:
    if exchange.operation_id == "createWorld" and exchange.status == 201 and exchange.is_json():
        document = exchange.json()
        elsewhere = str(uuid.uuid4())
        document["id"] = elsewhere
        exchange.set_json(document)
        exchange.set_header("location", f"/v2/worlds/{elsewhere}")


def _non_bearer_challenge(exchange: Exchange) -> None:
    challenge = exchange.header("www-authenticate") or ""
    if exchange.status == 401 and 'error="invalid_token"' in challenge:
        exchange.set_header("www-authenticate", challenge.replace("Bearer ", "Token ", 1))


def _read_drops_description(exchange: Exchange) -> None:
    if exchange.operation_id == "getWorld" and exchange.status == 200 and exchange.is_json():
        document = exchange.json()
        document["description"] = ""
        exchange.set_json(document)


def _flagged_operation_missing(exchange: Exchange) -> None:
    if exchange.operation_id == "previewWorld" and exchange.status == 200:
        exchange.status = 404
        exchange.set_header("content-type", "application/problem+json")
        exchange.set_json({"type": "https://phase2.example/problems/not-found", "title": "Not found", "status": 404})


def _no_retry_after(exchange: Exchange) -> None:
    if exchange.status in (429, 503):
        exchange.remove_header("retry-after")


def _stream_429_empty_body(exchange: Exchange) -> None:
    if exchange.operation_id == "streamEvents" and exchange.status == 429:
        exchange.body = b""


def _schema_extra_field(exchange: Exchange) -> None:
    if exchange.operation_id in WORLD_OPERATIONS and 200 <= exchange.status < 300 and exchange.is_json():
        document = exchange.json()
        document["internal_shard"] = 7
        exchange.set_json(document)


def _create_answers_200(exchange: Exchange) -> None:
    if exchange.operation_id == "createWorld" and exchange.status == 201:
        exchange.status = 200


def _wrong_content_type(exchange: Exchange) -> None:
    if 200 <= exchange.status < 300 and exchange.media_type == "application/json":
        exchange.set_header("content-type", "text/plain; charset=utf-8")


def _sse_wrong_content_type(exchange: Exchange) -> None:
    if exchange.media_type == "text/event-stream":
        exchange.set_header("content-type", "text/plain; charset=utf-8")


def _token_missing_fields(exchange: Exchange) -> None:
    if exchange.operation_id in TOKEN_OPERATIONS and exchange.status == 200 and exchange.is_json():
        document = exchange.json()
        document.pop("refresh_token", None)
        exchange.set_json(document)


def _token_cacheable(exchange: Exchange) -> None:
    if exchange.operation_id in TOKEN_OPERATIONS:
        exchange.set_header("cache-control", "private, max-age=300")
        exchange.remove_header("pragma")


def _no_www_authenticate(exchange: Exchange) -> None:
    if exchange.status == 401:
        exchange.remove_header("www-authenticate")


def _health_cacheable(exchange: Exchange) -> None:
    if exchange.operation_id in HEALTH_OPERATIONS:
        exchange.set_header("cache-control", "public, max-age=30")


def _metrics_garbled(exchange: Exchange) -> None:
    if exchange.operation_id == "getMetrics" and exchange.status == 200:
        exchange.body = b"phase2 metrics follow {{{ not an exposition line\n" + exchange.body


def _histogram_not_cumulative(exchange: Exchange) -> None:
    if exchange.operation_id == "getMetrics" and exchange.status == 200:
        exchange.body = decumulate_buckets(exchange.body)


BUCKET_LINE = re.compile(rb"^(?P<series>[a-zA-Z_:][a-zA-Z0-9_:]*_bucket)\{(?P<labels>.*)\} (?P<value>\S+)(?P<rest>.*)$")
LE_LABEL = re.compile(rb',?le="[^"]*"')


def decumulate_buckets(exposition: bytes) -> bytes:
    """Rewrite each histogram's buckets as per-bucket counts instead of cumulative ones."""
    previous: dict[bytes, float] = {}
    lines = []
    for line in exposition.split(b"\n"):
        match = BUCKET_LINE.match(line)
        if match:
            key = match["series"] + b"{" + LE_LABEL.sub(b"", match["labels"]) + b"}"
            value = float(match["value"])
            own = value - previous.get(key, 0.0)
            previous[key] = value
            line = match["series"] + b"{" + match["labels"] + b"} " + repr(own).encode() + match["rest"]
        lines.append(line)
    return b"\n".join(lines)


# --- the corpus ----------------------------------------------------------------------------------

# telemetry: request ids
fault(
    "no-request-id",
    "P2-TEL-009",
    "Responses carry no X-Request-ID header.",
    _drop_request_id,
    headers_only=True,
)
fault(
    "request-id-not-echoed",
    "P2-TEL-009",
    "A client's X-Request-ID is replaced by a fresh one.",
    _fresh_request_id_when_echoed,
    headers_only=True,
)
fault(
    "request-id-constant",
    "P2-TEL-010",
    "Every generated X-Request-ID is the same value.",
    _constant_request_id,
    headers_only=True,
)
# protocol
fault("plain-text-errors", "P2-PRO-001", "Errors are text/plain instead of problem+json.", _plain_text_errors)
fault(
    "problem-status-mismatch",
    "P2-PRO-001",
    "The problem's status member differs from the HTTP status.",
    _problem_status_mismatch,
)
fault(
    "traceback-in-errors",
    "P2-PRO-002",
    "Problem details carry a Python traceback with a source path.",
    _traceback_in_errors,
)
fault(
    "stream-429-empty-body",
    "P2-PRO-001",
    "The event stream's 429 (rate limited) has an empty body instead of a problem document.",
    _stream_429_empty_body,
)
fault("no-location-on-create", "P2-PRO-003", "201 and 202 answers carry no Location header.", _no_location)
fault("no-etag-on-get", "P2-PRO-004", "Reading a world or runtime answers without an ETag.", _no_etag_on_get)
fault("405-without-allow", "P2-PRO-006", "405 answers carry no Allow header.", _no_allow)
fault("naive-timestamps", "P2-PRO-007", "Timestamps in bodies lose their time zone.", _naive_timestamps)
fault(
    "unknown-enum-status",
    "P2-PRO-008",
    "A pending runtime reports the status 'queued'.",
    _unknown_enum_status,
)
fault(
    "uppercase-running-status",
    "P2-PRO-008",
    "A running runtime reports the status 'RUNNING' (outside the enum): waits for running can never end well.",
    _uppercase_running,
)
fault("no-body-limit", "P2-PRO-009", "Bodies over 1 MiB are read and processed instead of answering 413.")
fault(
    "ignore-content-type",
    "P2-PRO-010",
    "Bodies of any media type are parsed as JSON instead of answering 415.",
)
fault("accept-unknown-fields", "P2-PRO-011", "Unknown body fields are dropped silently instead of refused.")
fault("no-retry-after", "P2-PRO-012", "429 and 503 answers carry no Retry-After.", _no_retry_after)
fault("malformed-json-500", "P2-PRO-013", "A body that is not JSON answers 500 instead of 400.")
# contract
fault(
    "schema-extra-field",
    "P2-CON-003",
    "World bodies carry a field the schema does not define.",
    _schema_extra_field,
)
fault("create-answers-200", "P2-CON-001", "Creating a world answers 200 instead of 201.", _create_answers_200)
fault(
    "wrong-content-type",
    "P2-CON-002",
    "Successful JSON answers are labelled text/plain.",
    _wrong_content_type,
)
fault("server-error-on-unicode-name", "P2-CON-008", "A world name holding non-ASCII characters answers 500.")
fault("reject-valid-labels", "P2-CON-005", "A world body with any labels is refused with 422.")
fault("not-deleted", "P2-CON-010", "Deleting a runtime answers 204 but the runtime stays.")
# semantic
fault(
    "duplicate-name-allowed",
    "P2-SEM-002",
    "A second world with a name already used in the tenant is created.",
)
fault("patch-replaces", "P2-SEM-003", "A merge patch replaces the labels object instead of merging it.")
fault("ignore-if-match", "P2-SEM-004", "A stale If-Match on update is ignored instead of answering 412.")
fault("if-match-optional", "P2-SEM-005", "An update without If-Match is applied instead of answering 428.")
fault("soft-delete-visible", "P2-SEM-006", "A deleted world still appears in the world list.")
fault(
    "delete-with-live-runtimes",
    "P2-SEM-007",
    "A world with live runtimes is deleted instead of answering 409.",
)
fault("limit-ignored", "P2-SEM-008", "List pages hold up to 100 items whatever the limit.")
fault("pagination-skips", "P2-SEM-009", "Each next_cursor skips the first item of the next page.")
fault("pagination-repeats", "P2-SEM-009", "Each next_cursor repeats the last item of the page.")
fault("runtime-stuck-starting", "P2-SEM-010", "Runtimes never leave starting.")
fault("stop-never-completes", "P2-SEM-011", "Stopping runtimes never reach stopped.")
fault("failed-without-reason", "P2-SEM-012", "A failed runtime has no failure_reason.")
fault("delete-running-runtime", "P2-SEM-013", "A live runtime can be deleted instead of answering 409.")
fault(
    "runtime-filter-ignored",
    "P2-SEM-014",
    "The runtime list ignores its world_id, status and plugin filters.",
)
fault("missing-update-events", "P2-SEM-015", "Updating a world records no world.updated event.")
fault("duplicate-events", "P2-SEM-015", "Updating a world records its world.updated event twice.")
fault(
    "failed-after-running",
    "P2-SEM-015",
    "A runtime that cannot start records running before failed, a change the lifecycle does not allow.",
)
fault("event-filter-ignored", "P2-SEM-016", "The event list ignores its type and subject filters.")
fault(
    "sse-wrong-content-type",
    "P2-SEM-017",
    "The event stream is labelled text/plain.",
    _sse_wrong_content_type,
    headers_only=True,
)
fault("sse-ignores-last-event-id", "P2-SEM-018", "The event stream replays every event despite Last-Event-ID.")
fault("flag-always-on", "P2-SEM-019", "Feature-flagged operations answer even while their flag is off.")
fault("engine-flags-wrong", "P2-SEM-021", "GET /engine reports the flags that are off instead of those on.")
fault("single-plugin", "P2-SEM-022", "Only the first plugin can be read by name; the others answer 404.")
# auth
fault(
    "no-www-authenticate",
    "P2-AUTH-001",
    "401 answers carry no WWW-Authenticate challenge.",
    _no_www_authenticate,
)
fault("accept-expired", "P2-AUTH-003", "Expired access tokens are accepted.")
fault("accept-nbf-future", "P2-AUTH-004", "Access tokens whose nbf lies in the future are accepted.")
fault("accept-any-issuer", "P2-AUTH-005", "The iss claim is not checked.")
fault("accept-any-audience", "P2-AUTH-006", "The aud claim is not checked.")
fault("accept-alg-none", "P2-AUTH-007", "Unsigned tokens (alg none) are accepted.")
fault("alg-confusion", "P2-AUTH-008", "HS256 tokens verify with an issuer's public key PEM as the secret.")
fault("skip-signature", "P2-AUTH-009", "Token signatures are not verified.")
fault("accept-unknown-kid", "P2-AUTH-010", "Tokens with a key id nobody publishes are accepted unverified.")
fault("ignore-scopes", "P2-AUTH-011", "Token scopes are not checked.")
fault(
    "token-response-missing-fields",
    "P2-AUTH-013",
    "Token responses omit refresh_token.",
    _token_missing_fields,
)
fault("token-cacheable", "P2-AUTH-014", "Token responses are cacheable.", _token_cacheable)
fault("invalid-client-400", "P2-AUTH-015", "Unknown client credentials answer 400 instead of 401.")
fault("refresh-not-rotated", "P2-AUTH-016", "Refreshing returns the same refresh token, which stays usable.")
fault("logout-noop", "P2-AUTH-017", "Logout answers 204 but revokes nothing.")
fault("tenant-leak-read", "P2-AUTH-019", "Another tenant's worlds and runtimes can be read by id.")
fault("tenant-leak-list", "P2-AUTH-019", "World and runtime lists show every tenant's resources.")
fault("tenant-leak-write", "P2-AUTH-020", "Another tenant's worlds and runtimes can be changed.")
fault("tenant-leak-events", "P2-AUTH-021", "Events of every tenant are listed and streamed.")
fault("reader-can-write", "P2-AUTH-022", "A token with a read scope may use the matching write operations.")
# health
fault("healthz-needs-auth", "P2-HLT-001", "/healthz demands a bearer token.")
fault("readyz-no-components", "P2-HLT-002", "/readyz reports no component checks.")
fault("readyz-always-ready", "P2-HLT-003", "/readyz answers 200 ready even while the data store is down.")
fault("health-cacheable", "P2-HLT-004", "Health answers are cacheable.", _health_cacheable)
fault("health-no-head", "P2-HLT-005", "HEAD on the health endpoints answers 405.")
fault("slow-liveness", "P2-HLT-006", "/healthz takes 300 ms to answer.")
# telemetry: metrics and traces
fault(
    "metrics-garbled",
    "P2-TEL-001",
    "/metrics starts with a line that is not exposition format.",
    _metrics_garbled,
)
fault("metrics-no-openmetrics", "P2-TEL-002", "/metrics ignores Accept and never answers OpenMetrics.")
fault("metrics-missing-histogram", "P2-TEL-003", "The request duration histogram is not exposed.")
fault("metrics-double-count", "P2-TEL-004", "Each request increments the request counter twice.")
fault("metrics-raw-path", "P2-TEL-005", "The route label is the raw request path, ids included.")
fault(
    "histogram-not-cumulative",
    "P2-TEL-006",
    "Histogram buckets hold per-bucket counts, not cumulative ones.",
    _histogram_not_cumulative,
)
fault(
    "trace-ignores-traceparent",
    "P2-TEL-007",
    "Server spans start a new trace instead of continuing traceparent.",
)
fault("span-missing-attributes", "P2-TEL-008", "Server spans carry no http.* attributes.")

# Rules no other fault breaks alone.
fault(
    "garbage-token-wrong-error",
    "P2-AUTH-002",
    'A bearer token that is not a JWT is refused with error="invalid_request" instead of invalid_token.',
    _garbage_token_wrong_error,
)
fault(
    "refuse-single-scope",
    "P2-AUTH-012",
    "A valid token holding only the operation's scope is refused with 403.",
    _refuse_single_scope,
)
fault("metadata-without-jwks", "P2-AUTH-018", "The RFC 8414 metadata names no jwks_uri.", _metadata_without_jwks)
fault(
    "request-id-with-spaces",
    "P2-CON-004",
    "Generated X-Request-IDs hold a space, outside the header's schema.",
    _request_id_with_spaces,
)
fault(
    "clamp-tick-rate",
    "P2-CON-006",
    "A tick rate outside 1-240 is forced into range instead of refused.",
)
fault(
    "created-id-unreachable",
    "P2-CON-009",
    "Creating a world answers another id than the one stored, so its links lead nowhere.",
    _created_id_unreachable,
)
fault(
    "non-bearer-challenge",
    "P2-PRO-005",
    "401 answers to an invalid token challenge with the Token scheme instead of Bearer.",
    _non_bearer_challenge,
)
fault("read-drops-description", "P2-SEM-001", "Reading a world answers an empty description.", _read_drops_description)
fault(
    "flagged-operation-missing",
    "P2-SEM-020",
    "The world preview answers 404 even while its flag is on.",
    _flagged_operation_missing,
)
