"""One observed request/response pair, from either HTTP client, in a shape checks can judge."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import requests

from conformance.client import bounded
from conformance.client.secrets import Redactor
from conformance.contract.spec import Operation
from conformance.results import RecordedExchange

BODY_EXCERPT = 4096
# The source of a 429 that was not its request's final answer (judged as an answer of its own).
RATE_LIMITED = "rate-limited"
_UNSET = object()


@dataclass
class ObservedResponse:
    operation: Operation | None
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int
    headers: dict[str, str]  # lower-case names, repeated values joined with ", "
    body: bytes
    elapsed_ms: float | None = None
    negative: bool = False  # the request was deliberately invalid
    conforming: bool | None = None  # a generated request re-validated against the contract (None: not checked)
    source: str = "scenario"
    _json: Any = field(default=_UNSET, repr=False)

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        if self._json is _UNSET:
            # Bounded: JSON nested a million levels deep is a ValueError here, not a RecursionError.
            self._json = bounded.loads(self.body, max_bytes=max(len(self.body), 1))
        return self._json

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except ValueError:
            return None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def sent_header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.request_headers.items() if k.lower() == lowered), None)

    def to_exchange(self, redactor: Redactor) -> RecordedExchange:
        return RecordedExchange(
            method=self.method,
            url=redactor.text(self.url),
            request_headers=redactor.headers(self.request_headers),
            request_body=_excerpt(self.request_body, redactor),
            status=self.status,
            response_headers=redactor.headers(self.headers),
            response_body=_excerpt(self.body, redactor),
            elapsed_ms=self.elapsed_ms,
        )

    def curl(self, redactor: Redactor) -> str:
        parts = ["curl", "-sS", "-X", self.method]
        for name, value in redactor.headers(self.request_headers).items():
            if name.lower() in {"content-length", "accept-encoding", "connection", "user-agent", "host"}:
                continue
            parts += ["-H", curl_header(name, value)]
        if self.request_body:
            body = _excerpt(self.request_body, redactor, limit=BODY_EXCERPT * 4)
            parts += ["--data-binary", body or ""]
        parts.append(redactor.text(self.url))
        return " ".join(shlex.quote(part) for part in parts)


def curl_header(name: str, value: str) -> str:
    """The `-H` argument that makes curl send this header: curl drops `Name: ` with an empty
    value, and sends an empty header only when written `Name;`."""
    return f"{name}: {value}" if value.strip() else f"{name};"


def _excerpt(body: bytes | None, redactor: Redactor, limit: int = BODY_EXCERPT) -> str | None:
    if not body:
        return None
    text = body[:limit].decode("utf-8", errors="replace")
    if len(body) > limit:
        text += f"… ({len(body)} bytes)"
    return redactor.text(text)


def _joined_items(items: list[tuple[str, str]]) -> dict[str, str]:
    joined: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        joined[key] = f"{joined[key]}, {value}" if key in joined else str(value)
    return joined


def from_httpx(response: httpx.Response, operation: Operation | None, *, negative: bool = False) -> ObservedResponse:
    request = response.request
    elapsed = response.extensions.get("elapsed")
    return ObservedResponse(
        operation=operation,
        method=request.method,
        url=str(request.url),
        request_headers=dict(request.headers.items()),
        request_body=request.content or None,
        status=response.status_code,
        headers=_joined_items(response.headers.multi_items()),
        body=response.content,
        elapsed_ms=elapsed * 1000 if isinstance(elapsed, float) else None,
        negative=negative,
        source="scenario",
    )


def from_schemathesis(response: Any, operation: Operation | None, *, negative: bool) -> ObservedResponse:
    """From Schemathesis' own `Response` (headers are lower-case lists; the request is `requests`')."""
    request = response.request
    body = request.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    return ObservedResponse(
        operation=operation,
        method=str(request.method),
        url=str(request.url),
        request_headers={k: str(v) for k, v in request.headers.items()},
        request_body=body if isinstance(body, bytes) else None,
        status=response.status_code,
        headers={k.lower(): ", ".join(v) for k, v in response.headers.items()},
        body=response.content or b"",
        elapsed_ms=float(response.elapsed) * 1000,
        negative=negative,
        source="schemathesis",
    )


def from_requests(response: requests.Response, operation: Operation | None) -> ObservedResponse:
    """From a `requests` response whose body was read (the transport reads every body it returns)."""
    request = response.request
    body = request.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    return ObservedResponse(
        operation=operation,
        method=str(request.method),
        url=str(request.url),
        request_headers={k: str(v) for k, v in request.headers.items()},
        request_body=body if isinstance(body, bytes) else None,
        status=response.status_code,
        headers=_joined_items(list(response.headers.items())),
        body=response.content or b"",
        elapsed_ms=response.elapsed.total_seconds() * 1000,
    )


def from_client(response: httpx.Response | requests.Response, operation: Operation | None) -> ObservedResponse:
    """From the response of either of the suite's clients."""
    if isinstance(response, httpx.Response):
        return from_httpx(response, operation)
    return from_requests(response, operation)
