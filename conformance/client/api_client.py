"""Contract-aware calls for scenario checks: by operationId, with the right token and media type.

Every response goes to the `observe` callback first, so the run's response checks judge scenario
traffic exactly as they judge Schemathesis traffic.
"""

from __future__ import annotations

import json as jsonlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpx

from conformance.client import bounded, step_log
from conformance.client.observed import ObservedResponse, from_httpx
from conformance.client.reproduction import credential_of
from conformance.client.tokens import TokenManager
from conformance.client.transport import LimitedClient, Limits, ResponseTooLarge, loaded_response
from conformance.contract.spec import Contract, Operation

Observer = Callable[[ObservedResponse], None]
NO_TOKEN = ""
# Set while a scenario cleans up after itself: a stopped run still undoes what it created.
_CLEANING_UP: ContextVar[bool] = ContextVar("conformance_cleaning_up", default=False)


class RunStopped(Exception):
    """The run was stopped (a signal): the scenario ends at its next request instead of going on."""


@contextmanager
def cleaning_up() -> Iterator[None]:
    """Calls made inside are sent even after the run was stopped (a scenario's cleanups)."""
    token = _CLEANING_UP.set(True)
    try:
        yield
    finally:
        _CLEANING_UP.reset(token)


class ApiClient:
    def __init__(
        self,
        client: LimitedClient,
        contract: Contract,
        tokens: TokenManager,
        base_url: str,
        observe: Observer,
        stopping: threading.Event | None = None,
    ) -> None:
        self.client = client
        self.stopping = stopping
        self.contract = contract
        self.tokens = tokens
        self.base_url = base_url.rstrip("/")
        self._observe = observe

    def url_for(self, operation: Operation, path: Mapping[str, str] | None = None) -> str:
        rendered = operation.path
        for name, value in (path or {}).items():
            rendered = rendered.replace("{" + name + "}", str(value))
        return self.base_url + rendered

    def _go_on(self) -> None:
        if self.stopping is not None and self.stopping.is_set() and not _CLEANING_UP.get():
            raise RunStopped("the run was stopped")

    def call(
        self,
        operation_id: str,
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        role: str = "primary",
        scope: str | None = None,
        token: str | None = None,
        negative: bool = False,
    ) -> ObservedResponse:
        """Call an operation. `token=None` uses the role's token; `token=NO_TOKEN` sends none."""
        self._go_on()
        operation = self.contract.operation(operation_id)
        sent = dict(headers or {})
        credential = step_log.credential_kind(token, role, scope) if operation.protected or token else "none"
        if operation.protected and token is None:
            token = self.tokens.token(role, scope)
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if json is not None:
            content = jsonlib.dumps(json).encode("utf-8")
            content_type = content_type or (operation.request_media_types or ("application/json",))[0]
        if content is not None and content_type:
            sent["Content-Type"] = content_type
        response = self.client.request(
            operation.method,
            self.url_for(operation, path),
            params=_query(query),
            content=content,
            headers=sent,
        )
        observed = from_httpx(response, operation, negative=negative)
        self._log(observed, credential)
        self._observe(observed)
        return observed

    @staticmethod
    def _log(observed: ObservedResponse, credential: str) -> None:
        log = step_log.current()
        if log is not None:
            log.add(observed, credential)

    @contextmanager
    def stream(
        self,
        operation_id: str,
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        role: str = "primary",
    ) -> Iterator[OpenStream]:
        """Call an operation whose answer is read while it arrives (an event stream kept open).

        The caller may send other requests between reads. When the block ends, the response with
        the bytes read so far goes to the response checks like any other.
        """
        self._go_on()
        operation = self.contract.operation(operation_id)
        sent = dict(headers or {})
        if operation.protected:
            sent["Authorization"] = f"Bearer {self.tokens.token(role)}"
        request = self.client.build_request(
            operation.method, self.url_for(operation, path), params=_query(query), headers=sent
        )
        # Through the run's governor like every request (a 429 is waited out and sent again), but
        # the body is left to be read while it arrives (an error answer's is read whole).
        response = self.client.send_streaming(request)
        opened = OpenStream(response, self.client.limits)
        try:
            yield opened
        finally:
            response.close()
            observed = from_httpx(loaded_response(response, bytes(opened.received), request), operation)
            self._log(observed, f"role:{role}" if operation.protected else "none")
            self._observe(observed)

    def raw(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        operation: Operation | None = None,
        negative: bool = True,
    ) -> ObservedResponse:
        """A request outside the contract's operations (an undeclared method, a raw body)."""
        self._go_on()
        response = self.client.request(method, self.base_url + path, headers=dict(headers or {}), content=content)
        observed = from_httpx(response, operation, negative=negative)
        self._log(observed, credential_of(observed))
        self._observe(observed)
        return observed


def _query(query: Mapping[str, Any] | None) -> dict[str, str] | None:
    if not query:
        return None
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in query.items() if v is not None}


class OpenStream:
    """A response whose body is read chunk by chunk, under the run's size cap and a deadline."""

    def __init__(self, response: httpx.Response, limits: Limits) -> None:
        self.response = response
        self.limits = limits
        self.received = bytearray()
        # An error answer comes read whole (`LimitedClient.send_streaming`), so the response checks
        # judge all of it even when the caller reads none; its content is decoded already.
        self._loaded = response.is_stream_consumed
        if self._loaded:
            self.received.extend(response.content)
        # Raw bytes decoded under the cap: an event stream may be compressed like any body.
        self._chunks: Iterator[bytes] = iter(()) if self._loaded else response.iter_raw()
        self._decoder = bounded.Decoder(response.headers.get("content-encoding"), limits.max_body_bytes)

    @property
    def status(self) -> int:
        return self.response.status_code

    def header(self, name: str) -> str:
        return str(self.response.headers.get(name, ""))

    def chunks(self, deadline: float) -> Iterator[bytes]:
        """The body's chunks until it ends or `deadline` (monotonic seconds) passes."""
        if self._loaded:
            yield bytes(self.received)
            return
        for raw in self._chunks:
            try:
                chunk = self._decoder.feed(raw)
            except bounded.LimitExceeded as exc:
                raise ResponseTooLarge(f"response {exc}") from None
            self.received.extend(chunk)
            yield chunk
            if time.monotonic() > deadline:
                return
