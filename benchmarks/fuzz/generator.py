"""One malformed request: a valid request for an operation with exactly one thing broken, reproducible from a seed."""

from __future__ import annotations

import base64
import copy
import json
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from benchmarks.fuzz.operations import METHODS, Operation, Param, methods_by_path

MAX_BODY = 1024 * 1024
TOKEN_OPERATIONS = frozenset({"login", "refreshToken"})
NOISE_SHARE = 0.33


@dataclass
class Fixtures:
    """What the requests point at: real resources and credentials made before the snapshot."""

    admin_token: str
    reader_token: str
    world_id: str
    world_etag: str
    runtime_id: str
    worlds_cursor: str
    events_cursor: str


@dataclass
class Malformed:
    operation: str
    defect: str
    method: str
    path: str  # after /v2, already percent-encoded
    query: str = ""  # already percent-encoded
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes | None = None
    expected: frozenset[int] = frozenset()
    noise: str | None = None

    def header(self, name: str, value: str | bytes) -> None:
        encoded = value if isinstance(value, bytes) else value.encode("latin-1")
        lowered = name.lower().encode("latin-1")
        self.headers = [(key, old) for key, old in self.headers if key != lowered]
        self.headers.append((lowered, encoded))

    def drop(self, name: str) -> None:
        lowered = name.lower().encode("latin-1")
        self.headers = [(key, old) for key, old in self.headers if key != lowered]

    def target(self) -> str:
        return "/v2" + self.path + (f"?{self.query}" if self.query else "")

    def wire(self) -> bytes:
        """The request as HTTP/1.1 bytes, for what httpx refuses to send (e.g. a header value ending in a space)."""
        lines = [f"{self.method} {self.target()} HTTP/1.1".encode("latin-1"), b"Host: 127.0.0.1"]
        lines += [name + b": " + value for name, value in self.headers]
        if self.body is not None:
            lines.append(b"Content-Length: " + str(len(self.body)).encode())
        lines.append(b"Connection: close")
        return b"\r\n".join(lines) + b"\r\n\r\n" + (self.body or b"")


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


BAD_UUIDS = (
    "not-a-uuid",
    "123",
    "00000000-0000-0000-0000-00000000000g",
    "0000000000000000000000000000000",
    "3f0c9a52-6a4e-4f3e-9a57-1d6e2b0c8f11-extra",
    "%00",
    "%00%00%00%00",
    "3f0c9a52-6a4e-4f3e-9a57-1d6e2b0c8f1%00",
    "%C3%A9t%C3%A9",
    "%E2%80%AE%F0%9F%98%80",
    "%FF%FE%FD",
    "..%2F..%2Fetc%2Fpasswd",
    "x%2Fy",
    "%27%20OR%201%3D1%20--",
    "a" * 8192,
    "{world_id}",
    "%20",
    "-1",
)
BAD_PLUGIN_NAMES = ("A", "x", "-abc", "a" * 40, "Physics-Sim", "physics_sim", "%00", "%C3%BC-sim", "x%2Fy", "a%20b")
BAD_INTEGERS = (
    "abc",
    "1.5",
    "",
    " 5",
    "5 ",
    "1e3",
    "0x10",
    "%D9%A3",
    "%EF%BC%95",
    "5_0",
    "+",
    "-",
    "9" * 40,
    "%00",
    "[]",
)
BAD_ETAGS = ('W/"1"', "1", '"a b"', '"' + "x" * 70 + '"', '*, "1"', '""', '"1', '1"', "\u00e9")
BROKEN_JSON = (
    b"{",
    b'{"name": }',
    b"{'name': 'x'}",
    b'{"name": "x",}',
    b'{"a":1}{"b":2}',
    b"NaN",
    b'{"name": NaN}',
    b'{"name": Infinity}',
    b"/* comment */ {}",
    b'{"name": "x" // comment\n}',
    b"\xef\xbb\xbf{}",
    b"nul",
    b'{"name": "unterminated',
    b'{"name" "x"}',
    b"[1, 2",
    b'{"a": 01}',
    b'{"a": .5}',
    b'{"a": "\\x41"}',
    b'{"a": "\\u12"}',
)
INVALID_UTF8 = (b'{"name": "\xff\xfe"}', b"\x80\x81\x82", b'{"name": "\xc3\x28"}', b'{"\xed\xa0\x80": 1}')
NUL_BODIES = (b"\x00", b'{"name": "a\x00b"}', b"\x00{}", b'{"name": "x"}\x00')
WRONG_TOP_LEVEL: tuple[Any, ...] = ([], "string", 1, None, True, 1.5, [{}])
WRONG_TYPES: tuple[Any, ...] = (123, None, [], {}, True, 1.5, "x" * 5000, -1, 10**30, {"nested": {"deep": [1, 2, 3]}})
BAD_CONTENT_TYPES = (
    "text/plain",
    "application/xml",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
    "application/json; charset=latin-1",
    "application/json; charset=utf-16",
    "application/jsonx",
    "json",
    "application/merge-patch+json+x",
    "*/*",
    "application/json\u00e9",
)
STATUS_BY_KIND = {"parse": 400, "param": 400, "schema": 400, "media": 415, "size": 413}
NOISES = ("request-id", "junk-headers", "big-header", "accept", "traceparent", "cookie", "user-agent")


class Generator:
    """Malformed requests for the contract's operations, one defect each, reproducible from a seed."""

    def __init__(self, operations: list[Operation], fixtures: Fixtures, seed: int) -> None:
        self.operations = operations
        self.fixtures = fixtures
        self.rng = random.Random(seed)
        self.declared = methods_by_path(operations)

    def requests(self, count: int) -> Iterator[Malformed]:
        for index in range(count):
            operation = self.operations[index % len(self.operations)]
            defects = self.defects(operation)
            name = self.rng.choice(sorted(defects))
            request = self.base(operation)
            request.defect = name
            defects[name](operation, request)
            if self.rng.random() < NOISE_SHARE:
                self.add_noise(request)
            yield request

    # --- the valid request every defect starts from ------------------------------------------

    def base(self, operation: Operation) -> Malformed:
        path = operation.path
        values = {
            "world_id": self.fixtures.world_id,
            "runtime_id": self.fixtures.runtime_id,
            "plugin_name": "physics-sim",
        }
        for name, value in values.items():
            path = path.replace("{" + name + "}", value)
        request = Malformed(operation.operation_id, "", operation.method, path)
        if operation.secured:
            request.header("Authorization", f"Bearer {self.fixtures.admin_token}")
        if operation.operation_id == "updateWorld":
            request.header("If-Match", self.fixtures.world_etag)
        if operation.media_types:
            request.header("Content-Type", operation.media_types[0])
            request.body = dumps(operation.example)
        return request

    def status(self, operation: Operation, kind: str) -> frozenset[int]:
        """What a defect of `kind` must answer on this operation (the token operations answer 400 for a bad body)."""
        if kind == "schema" and operation.operation_id not in TOKEN_OPERATIONS:
            return frozenset({422})
        return frozenset({STATUS_BY_KIND[kind]})

    # --- the defects that apply to an operation ----------------------------------------------

    def defects(self, operation: Operation) -> dict[str, Callable[[Operation, Malformed], None]]:
        found: dict[str, Callable[[Operation, Malformed], None]] = {
            "undeclared-method": self.undeclared_method,
            "trailing-segment": self.trailing_segment,
        }
        if operation.secured:
            found.update(
                {
                    "no-token": self.no_token,
                    "garbage-token": self.garbage_token,
                    "wrong-scheme": self.wrong_scheme,
                    "tampered-token": self.tampered_token,
                }
            )
            if operation.write:
                found["read-only-client"] = self.read_only
        names = {param.name for param in operation.params}
        if names & {"world_id", "runtime_id"} and any(param.location == "path" for param in operation.params):
            found["bad-uuid-in-path"] = self.bad_uuid_in_path
        if "plugin_name" in names:
            found["bad-plugin-name"] = self.bad_plugin_name
        if operation.param("query"):
            found["bad-query-value"] = self.bad_query_value
            found["repeated-query"] = self.repeated_query
        if "cursor" in names:
            found["bad-cursor"] = self.bad_cursor
        if "Last-Event-ID" in names:
            found["bad-last-event-id"] = self.bad_last_event_id
        if "If-Match" in names:
            found["malformed-if-match"] = self.malformed_if_match
            found["stale-if-match"] = self.stale_if_match
            if operation.operation_id == "updateWorld":
                found["missing-if-match"] = self.missing_if_match
        if operation.media_types:
            found.update(
                {
                    "broken-json": self.broken_json,
                    "invalid-utf8": self.invalid_utf8,
                    "nul-bytes": self.nul_bytes,
                    "lone-surrogate": self.lone_surrogate,
                    "deep-nesting": self.deep_nesting,
                    "huge-integer": self.huge_integer,
                    "wrong-type": self.wrong_type,
                    "unknown-field": self.unknown_field,
                    "wrong-top-level": self.wrong_top_level,
                    "wrong-content-type": self.wrong_content_type,
                    "missing-content-type": self.missing_content_type,
                    "oversize-body": self.oversize_body,
                    "non-ascii-value": self.non_ascii_value,
                }
            )
            if operation.body_required:
                found["empty-body"] = self.empty_body
            if operation.body_schema and operation.body_schema.get("required"):
                found["missing-required"] = self.missing_required
            if operation.operation_id == "updateWorld":
                found["empty-patch"] = self.empty_patch
        return found

    def undeclared_method(self, operation: Operation, request: Malformed) -> None:
        declared = self.declared[operation.path]
        request.method = self.rng.choice(
            [method for method in ("PUT", "OPTIONS", "TRACE", *METHODS) if method not in declared]
        )
        if request.method == "HEAD" and "GET" in declared:
            request.method = "PUT"  # HEAD is GET without a body wherever GET exists
        request.expected = frozenset({405})

    def trailing_segment(self, operation: Operation, request: Malformed) -> None:
        request.path += self.rng.choice(("/extra", "/%00", "/%C3%A9", "//", "/" + "x" * 300, "/x/y/z"))
        # Another path: none (404), or one of an item whose id is then junk (400), or not for this method (405).
        request.expected = frozenset({400, 404, 405})

    def no_token(self, operation: Operation, request: Malformed) -> None:
        request.drop("Authorization")
        request.expected = frozenset({401})

    def garbage_token(self, operation: Operation, request: Malformed) -> None:
        token = self.rng.choice(
            (
                "garbage",
                "a.b.c",
                "eyJhbGciOiJub25lIn0.e30.",
                "x" * 60000,
                ".".join("x" * 20000 for _ in range(3)),
                base64.urlsafe_b64encode(os.urandom(300)).decode(),
                "\u00e9\u00e8\u00ea",
            )
        )
        request.header("Authorization", b"Bearer " + token.encode("latin-1"))
        request.expected = frozenset({401})

    def wrong_scheme(self, operation: Operation, request: Malformed) -> None:
        value = self.rng.choice(
            ("Basic dXNlcjpwYXNz", f"Token {self.fixtures.admin_token}", "Bearer", "Bearer ", self.fixtures.admin_token)
        )
        request.header("Authorization", value)
        request.expected = frozenset({401})

    def tampered_token(self, operation: Operation, request: Malformed) -> None:
        token = self.fixtures.admin_token
        position = self.rng.randrange(len(token) - 10, len(token) - 1)
        replacement = "A" if token[position] != "A" else "B"
        request.header("Authorization", f"Bearer {token[:position]}{replacement}{token[position + 1 :]}")
        request.expected = frozenset({401})

    def read_only(self, operation: Operation, request: Malformed) -> None:
        request.header("Authorization", f"Bearer {self.fixtures.reader_token}")
        request.expected = frozenset({403})

    def bad_uuid_in_path(self, operation: Operation, request: Malformed) -> None:
        real = self.fixtures.world_id if "{world_id}" in operation.path else self.fixtures.runtime_id
        request.path = request.path.replace(real, self.rng.choice(BAD_UUIDS))
        request.expected = frozenset({400, 404})  # 404 when the junk no longer fits the route at all

    def bad_plugin_name(self, operation: Operation, request: Malformed) -> None:
        request.path = request.path.replace("physics-sim", self.rng.choice(BAD_PLUGIN_NAMES))
        request.expected = frozenset({400, 404})

    def bad_value(self, param: Param) -> str:
        schema = param.schema
        if schema.get("type") == "integer":
            low, high = schema.get("minimum"), schema.get("maximum")
            choices = list(BAD_INTEGERS)
            if low is not None:
                choices += [str(low - 1), str(low - 1000)]
            if high is not None:
                choices += [str(high + 1), str(high * 1000), str(2**63)]
            return self.rng.choice(choices)
        if "enum" in schema:
            return self.rng.choice(("bogus", schema["enum"][0].upper(), "%00", schema["enum"][0] + "%20", ""))
        if schema.get("format") == "uuid":
            return self.rng.choice(BAD_UUIDS[:12])
        if "pattern" in schema:
            return self.rng.choice(("%00", "!!!", "%C3%A9" * 3, "A" * 300, "", "worlds/xyz", "people/1", "%2F"))
        return "%00"

    def bad_query_value(self, operation: Operation, request: Malformed) -> None:
        param = self.rng.choice(operation.param("query"))
        request.query = f"{param.name}={self.bad_value(param)}"
        request.expected = self.status(operation, "param")

    def repeated_query(self, operation: Operation, request: Malformed) -> None:
        param = self.rng.choice(operation.param("query"))
        if param.name == "cursor":
            value = quote(
                self.fixtures.worlds_cursor if operation.operation_id == "listWorlds" else self.fixtures.events_cursor
            )
            if operation.operation_id == "listRuntimes":
                value = "AAAAAAAA"
        else:
            value = self.valid_value(param)
        request.query = f"{param.name}={value}&{param.name}={value}"
        request.expected = self.status(operation, "param")

    def valid_value(self, param: Param) -> str:
        schema = param.schema
        if schema.get("type") == "integer":
            return str(schema.get("minimum", 1) or 1)
        if "enum" in schema:
            return str(schema["enum"][0])
        if schema.get("format") == "uuid":
            return self.fixtures.world_id
        if param.name == "subject":
            return f"worlds/{self.fixtures.world_id}"
        if param.name == "plugin":
            return "physics-sim"
        return "x"

    def bad_cursor(self, operation: Operation, request: Malformed) -> None:
        foreign = self.fixtures.events_cursor if operation.operation_id != "listEvents" else self.fixtures.worlds_cursor
        forged = base64.urlsafe_b64encode(os.urandom(21)).rstrip(b"=").decode()
        flipped = self.fixtures.worlds_cursor[:-1] + ("A" if self.fixtures.worlds_cursor[-1] != "A" else "B")
        cursor = self.rng.choice((foreign, forged, flipped, "!!", "%00", "a" * 257, "", "eyJzIjoxfQ", "%C3%A9"))
        request.query = f"cursor={cursor}"
        request.expected = self.status(operation, "param")

    def bad_last_event_id(self, operation: Operation, request: Malformed) -> None:
        value = self.rng.choice(("abc", "-1", "1" * 20, "", "1.0", "1 2", "\u0661", "0x1", "1, 2"))
        request.header("Last-Event-ID", value.encode("utf-8"))
        request.expected = self.status(operation, "param")

    def malformed_if_match(self, operation: Operation, request: Malformed) -> None:
        request.header("If-Match", self.rng.choice(BAD_ETAGS).encode("utf-8"))
        request.expected = self.status(operation, "param")

    def stale_if_match(self, operation: Operation, request: Malformed) -> None:
        request.header("If-Match", self.rng.choice(('"999"', '"0"', '"2"', '"18446744073709551616"')))
        if operation.operation_id == "updateWorld":
            request.body = dumps({"description": "a change that must not happen"})
        request.expected = frozenset({412})

    def missing_if_match(self, operation: Operation, request: Malformed) -> None:
        request.drop("If-Match")
        request.expected = frozenset({428})

    def broken_json(self, operation: Operation, request: Malformed) -> None:
        request.body = self.rng.choice(BROKEN_JSON)
        request.expected = self.status(operation, "parse")

    def invalid_utf8(self, operation: Operation, request: Malformed) -> None:
        request.body = self.rng.choice(INVALID_UTF8)
        request.expected = self.status(operation, "parse")

    def nul_bytes(self, operation: Operation, request: Malformed) -> None:
        request.body = self.rng.choice(NUL_BODIES)
        request.expected = self.status(operation, "parse")

    def lone_surrogate(self, operation: Operation, request: Malformed) -> None:
        key = self.first_string_field(operation) or "name"
        request.body = json.dumps({**self.example_object(operation), key: "a\ud800b"}).encode("utf-8")
        request.expected = self.status(operation, "parse")

    def deep_nesting(self, operation: Operation, request: Malformed) -> None:
        # Far past what any parser reads, or anywhere up to just past Python's recursion limit, where
        # whatever walks the parsed body next (re-encoding it for its \\u escape, quoting it in a
        # validation error) may run out of stack first. Nested inside a real property, so
        # validation descends into it.
        properties = sorted((operation.body_schema or {}).get("properties", {})) or ["a"]
        depth = self.rng.choice((100_000, 20_000, self.rng.randint(70, 1100), self.rng.randint(900, 1000)))
        nested = b'{"a":' * depth + b'"\\u0041"' + b"}" * depth
        request.body = b'{"' + self.rng.choice(properties).encode() + b'":' + nested + b"}"
        if depth > 10_000:
            request.expected = self.status(operation, "parse")
        else:
            # Read and refused by the schema, or refused by a parser that limits nesting (RFC 8259 §9).
            request.expected = self.status(operation, "parse") | self.status(operation, "schema")

    def huge_integer(self, operation: Operation, request: Malformed) -> None:
        # Python refuses integers over 4,300 digits: the body is not JSON it can read.
        request.body = b'{"value": ' + b"9" * 5000 + b"}"
        request.expected = self.status(operation, "parse")

    def example_object(self, operation: Operation) -> dict[str, Any]:
        example = operation.example
        return copy.deepcopy(example) if isinstance(example, dict) else {}

    def first_string_field(self, operation: Operation) -> str | None:
        properties = (operation.body_schema or {}).get("properties", {})
        return next((name for name, schema in properties.items() if schema.get("type") == "string"), None)

    def wrong_type(self, operation: Operation, request: Malformed) -> None:
        body = self.example_object(operation)
        properties = (operation.body_schema or {}).get("properties", {})
        name = self.rng.choice(sorted(properties))
        schema = properties[name]
        candidates = [value for value in WRONG_TYPES if not _fits(value, schema)]
        body[name] = self.rng.choice(candidates)
        if operation.operation_id == "createWorld" and name == "settings" and self.rng.random() < 0.5:
            body["settings"] = {"tick_rate_hz": self.rng.choice((0, 241, "60", 1.5, None, 10**20)), "max_entities": 5}
        request.body = dumps(body)
        request.expected = self.status(operation, "schema")

    def unknown_field(self, operation: Operation, request: Malformed) -> None:
        body = self.example_object(operation)
        body[self.rng.choice(("zzz", "id", "version", "tenant", "Name", "admin", "__proto__"))] = 1
        request.body = dumps(body)
        request.expected = self.status(operation, "schema")

    def missing_required(self, operation: Operation, request: Malformed) -> None:
        body = self.example_object(operation)
        assert operation.body_schema is not None
        for name in operation.body_schema["required"]:
            body.pop(name, None)
        request.body = dumps(body)
        request.expected = self.status(operation, "schema")

    def empty_patch(self, operation: Operation, request: Malformed) -> None:
        request.body = b"{}"
        request.expected = self.status(operation, "schema")

    def wrong_top_level(self, operation: Operation, request: Malformed) -> None:
        request.body = dumps(self.rng.choice(WRONG_TOP_LEVEL))
        request.expected = self.status(operation, "schema")

    def empty_body(self, operation: Operation, request: Malformed) -> None:
        request.body = self.rng.choice((b"", b" ", b"\n\n"))
        request.expected = self.status(operation, "parse")

    def wrong_content_type(self, operation: Operation, request: Malformed) -> None:
        choices = [value for value in BAD_CONTENT_TYPES if value.split(";")[0] not in operation.media_types]
        if operation.media_types == ("application/merge-patch+json",):
            choices.append("application/json")
        request.header("Content-Type", self.rng.choice(choices).encode("utf-8"))
        request.expected = self.status(operation, "media")

    def missing_content_type(self, operation: Operation, request: Malformed) -> None:
        request.drop("Content-Type")
        request.expected = self.status(operation, "media")

    def oversize_body(self, operation: Operation, request: Malformed) -> None:
        filler = "x" * (MAX_BODY + self.rng.randint(1, 4096))
        request.body = dumps({**self.example_object(operation), "description": filler})
        request.expected = self.status(operation, "size")

    def non_ascii_value(self, operation: Operation, request: Malformed) -> None:
        body = self.example_object(operation)
        odd = self.rng.choice(
            ("Z\u00fcrich-\u4e16\u754c", "\u0000name", "caf\u00e9", "\u202eevil", "\U0001f600", "a\u0000")
        )
        if operation.operation_id in ("createWorld", "updateWorld"):
            body[self.rng.choice(("name", "labels"))] = odd if self.rng.random() < 0.5 else {odd: "v"}
            if isinstance(body.get("name"), dict):
                body["name"] = odd
        elif operation.operation_id == "startRuntime":
            body[self.rng.choice(("plugin", "parameters"))] = odd if self.rng.random() < 0.5 else {odd: "v"}
            if isinstance(body.get("plugin"), dict):
                body["plugin"] = odd
        elif operation.operation_id == "login" or operation.operation_id == "refreshToken":
            body["grant_type"] = odd
        else:  # logout: no property takes an object
            body["refresh_token"] = {odd: odd}
        request.body = dumps(body)
        request.expected = self.status(operation, "schema")

    # --- noise: odd but harmless on its own --------------------------------------------------

    def add_noise(self, request: Malformed) -> None:
        noise = self.rng.choice(NOISES)
        request.noise = noise
        if noise == "request-id":
            # X-Request-ID is a parameter of every operation: a value outside its pattern is itself a 400.
            request.expected |= {400}
            request.header("X-Request-ID", self.rng.choice(("has spaces", "x" * 300, "caf\u00e9", "")))
        elif noise == "junk-headers":
            for index in range(50):
                request.headers.append((f"x-junk-{index}".encode(), os.urandom(8).hex().encode()))
        elif noise == "big-header":
            request.header("X-Padding", "p" * 16384)
        elif noise == "accept":
            request.header("Accept", self.rng.choice(("application/xml", "*/*;q=abc", "text/html, */*;q=0", "\u00e9")))
        elif noise == "traceparent":
            request.header(
                "traceparent",
                self.rng.choice(("00-zz-zz-01", "ff" * 40, "00-" + "0" * 32 + "-" + "0" * 16 + "-01", "")),
            )
        elif noise == "cookie":
            request.header("Cookie", "session=" + "c" * 4000 + "; a=\u00e9")
        else:
            request.header("User-Agent", "\u00e9" * 100)


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    """Whether `value` has a type `schema` allows (so it is no wrong type for it)."""
    declared = schema.get("type")
    if declared is None and "oneOf" in schema:
        return any(_fits(value, option) for option in schema["oneOf"])
    types = {declared} if isinstance(declared, str) else set(declared or [])
    checks = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "boolean": isinstance(value, bool),
        "null": value is None,
    }
    if not types:
        return True
    if "string" in types and isinstance(value, str):
        # A string of the right type can still be wrong; only long junk is sure to break a schema.
        return len(value) <= schema.get("maxLength", 10**9) and "pattern" not in schema and "const" not in schema
    return any(checks.get(kind, False) for kind in types)
